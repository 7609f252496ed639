package telemetry

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// A watcher's subscription: retained messages first, then live ones, and
// again after the broker restarts; a broker that is not there is an error
// that names it.
func TestListen(t *testing.T) {
	b := startBroker(t, "")
	prefix := randName("w")
	c := DefaultConfig()
	c.Broker = b.url()
	publish := func(topic, payload string, retained bool) {
		t.Helper()
		if err := PublishOnce(context.Background(), c, randName("admin"), prefix+"/"+topic, []byte(payload), retained); err != nil {
			t.Fatalf("PublishOnce: %v", err)
		}
	}
	publish("n1/status", "online", true)

	var mu sync.Mutex
	var got []string
	has := func(s string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, g := range got {
			if g == s {
				return true
			}
		}
		return false
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Listen(ctx, c, randName("watch"), prefix+"/#", func(topic string, payload []byte) {
			mu.Lock()
			got = append(got, strings.TrimPrefix(topic, prefix+"/")+" "+string(payload))
			mu.Unlock()
		})
	}()
	waitFor(t, 20*time.Second, "the retained status", func() bool { return has("n1/status online") })
	publish("n1/events", `{"kind":"alert"}`, false)
	waitFor(t, 20*time.Second, "a live event", func() bool { return has(`n1/events {"kind":"alert"}`) })

	b.stop()
	b.start()
	// The broker restarted without a session: Listen subscribes again.
	waitFor(t, 30*time.Second, "a message after the broker restarted", func() bool {
		publish("n1/status", "offline", false)
		return has("n1/status offline")
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Listen after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Listen did not return after its context ended")
	}

	c.Broker = "tcp://127.0.0.1:1"
	err := Listen(context.Background(), c, randName("watch"), "x/#", func(string, []byte) {})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("Listen to no broker: %v, want an error naming the broker", err)
	}
}
