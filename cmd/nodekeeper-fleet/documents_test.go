package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
)

// TestDocumentsWindow: listenDocuments returns the telemetry documents of
// its window, and a document published after the window does not change
// them. It used to be written into the map that status, plan and apply
// were reading: `status --documents` died of a concurrent map write
// beside a busy fleet (make bench's fleet run).
func TestDocumentsWindow(t *testing.T) {
	b := startBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dial := func() *broker.Conn {
		c, err := broker.Dial(ctx, broker.Options{URL: b.URL()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	c, pub := dial(), dial()
	doc := func(node string) []byte { return fmt.Appendf(nil, `{"node":%q}`, node) }
	// Published while the window is open, until the test ends.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			pub.Publish(ctx, pub.NodeTopic("n1", "document"), doc("n1"), false)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	defer func() { close(stop); <-done }()
	// A window long enough for a loaded machine to deliver some of them.
	docs, err := listenDocuments(ctx, c, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := docs.get(); got["n1"] == nil || len(got) != 1 {
		t.Fatalf("documents of the window: %v, want n1's", got)
	}
	// A new node's document after the window, then a marker on the same
	// connection: the connection's messages are handled in order, so
	// once the marker is in, the late document has been handled too.
	marker := make(chan struct{}, 1)
	if err := c.Subscribe(ctx, c.NodeTopic("marker", "x"), func(string, []byte) {
		select {
		case marker <- struct{}{}:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	for {
		pub.Publish(ctx, pub.NodeTopic("late", "document"), doc("late"), false)
		pub.Publish(ctx, pub.NodeTopic("marker", "x"), []byte("x"), false)
		select {
		case <-marker:
		case <-time.After(100 * time.Millisecond):
			continue
		case <-ctx.Done():
			t.Fatal("the marker never came")
		}
		break
	}
	if got := docs.get(); got["late"] != nil || len(got) != 1 {
		t.Errorf("documents after the window: %v, want n1's alone", got)
	}
}
