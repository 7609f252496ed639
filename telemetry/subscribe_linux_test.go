package telemetry

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// The agent's use of the publisher's connection: a subscription that
// outlives a broker restart (the broker keeps no session), a publish that
// proves a round trip, a message spooled retained, and a one-off publish.
func TestSharedConnection(t *testing.T) {
	b := startBroker(t, "")
	node := randName("n")
	c := testConfig(b.url(), node)
	c.CleanSession = true
	var mu sync.Mutex
	got := map[string]int{}
	p, err := NewPublisher(c)
	if err != nil {
		t.Fatal(err)
	}
	p.SubscribeTopic("cmd/"+node+"/#", func(topic string, payload []byte) {
		mu.Lock()
		got[topic+" "+string(payload)]++
		mu.Unlock()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	seen := func(k string) bool { mu.Lock(); defer mu.Unlock(); return got[k] > 0 }
	send := func(topic, payload string) {
		t.Helper()
		err := PublishOnce(context.Background(), c, randName("admin"), topic, []byte(payload), false)
		if err != nil {
			t.Fatalf("PublishOnce: %v", err)
		}
	}
	waitFor(t, 30*time.Second, "connected", p.Connected)
	waitFor(t, 30*time.Second, "the subscription's first message", func() bool {
		send("cmd/"+node+"/a", "1")
		return seen("cmd/" + node + "/a 1")
	})
	if err := p.PublishNow(ctx, p.Topic("state"), []byte("s1"), true); err != nil {
		t.Fatalf("PublishNow while connected: %v", err)
	}
	b.stop()
	waitFor(t, 30*time.Second, "disconnected", func() bool { return !p.Connected() })
	if err := p.PublishNow(ctx, p.Topic("state"), []byte("s2"), true); !errors.Is(err, ErrNotConnected) {
		t.Errorf("PublishNow while the broker is away: %v, want ErrNotConnected", err)
	}
	p.Enqueue(p.Topic("state"), []byte("s3"), 1, true)
	b.start()
	waitFor(t, 30*time.Second, "the subscription after the broker's restart", func() bool {
		send("cmd/"+node+"/b", "2")
		return seen("cmd/" + node + "/b 2")
	})
	// The spooled state went out retained once the broker was back.
	late := subscribe(t, b.url(), "", "nodekeeper/"+node+"/state")
	waitFor(t, 30*time.Second, "the retained state", func() bool {
		ms := late.on("nodekeeper/" + node + "/state")
		return len(ms) > 0 && string(ms[len(ms)-1].Payload()) == "s3" && ms[len(ms)-1].Retained()
	})
	p.UnsubscribeTopic("cmd/" + node + "/#")
	if err := PublishOnce(context.Background(), Config{Broker: "udp://x"}, "x", "t", nil, false); err == nil {
		t.Error("PublishOnce accepted a udp broker")
	}
}
