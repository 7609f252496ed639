package netcfg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWatch changes links, addresses and routes with `ip` and reads the
// events, flaps counted.
func TestWatch(t *testing.T) {
	ns := newNS(t)
	m := open(t, ns)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := m.Watch(ctx, WatchOptions{FlapWindow: time.Minute, FlapThreshold: 4})
	if err != nil {
		t.Fatal(err)
	}
	nsExec(t, ns, "ip", "link", "add", "nkw", "type", "veth", "peer", "name", "nkwp")
	nsExec(t, ns, "ip", "link", "set", "nkwp", "up")
	var all []Event
	for i := 0; i < 3; i++ {
		nsExec(t, ns, "ip", "link", "set", "nkw", "up")
		all = append(all, waitEvent(t, events, "link.up", "nkw")...)
		nsExec(t, ns, "ip", "link", "set", "nkw", "down")
		all = append(all, waitEvent(t, events, "link.down", "nkw")...)
	}
	nsExec(t, ns, "ip", "link", "set", "nkw", "up")
	nsExec(t, ns, "ip", "addr", "add", "10.85.0.1/24", "dev", "nkw")
	nsExec(t, ns, "ip", "route", "add", "10.86.0.0/16", "via", "10.85.0.2")
	nsExec(t, ns, "ip", "addr", "del", "10.85.0.1/24", "dev", "nkw")
	nsExec(t, ns, "ip", "link", "del", "nkw")
	all = append(all, waitEvent(t, events, "link.del", "nkw")...)

	var flaps []int
	var flapping []int
	has := map[string]bool{}
	for _, e := range all {
		if e.Link != "nkw" {
			continue
		}
		switch e.Type {
		case "link.up", "link.down":
			flaps = append(flaps, e.Flaps)
		case "link.flapping":
			flapping = append(flapping, e.Flaps)
		}
		has[e.Type+" "+e.Addr+e.Route] = true
	}
	// Seven changes by hand, the eighth as the deleted link goes down.
	if fmt.Sprint(flaps) != "[1 2 3 4 5 6 7 8]" {
		t.Errorf("flap counts of nkw's up/down events %v, want [1 2 3 4 5 6 7 8]", flaps)
	}
	if fmt.Sprint(flapping) != "[4]" {
		t.Errorf("link.flapping events at counts %v, want one at 4", flapping)
	}
	for _, want := range []string{"addr.add 10.85.0.1/24", "route.add 10.86.0.0/16 via 10.85.0.2 dev nkw", "addr.del 10.85.0.1/24", "link.del "} {
		if !has[want] {
			t.Errorf("no event %q among %v", want, all)
		}
	}
	cancel()
	for range events {
	}
}

// waitEvent reads events until one of the type for the link arrives, and
// returns all it read.
func waitEvent(t *testing.T, events <-chan Event, typ, link string) []Event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	var seen []Event
	for {
		select {
		case e, open := <-events:
			if !open {
				t.Fatalf("event channel closed waiting for %s %s; saw %v", typ, link, seen)
			}
			seen = append(seen, e)
			if e.Type == typ && e.Link == link {
				return seen
			}
		case <-timeout:
			t.Fatalf("no %s event for %s; saw %v", typ, link, seen)
		}
	}
}

// TestWatchEndsQuietly: ending a watch (the agent stopping) closes its
// netlink sockets, and the readers' failures that follow are not logged as
// warnings an admin would have to wonder about.
func TestWatchEndsQuietly(t *testing.T) {
	ns := newNS(t)
	m, logs := openLogged(t, ns)
	for i := 0; i < 5; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		events, err := m.Watch(ctx, WatchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		for range events {
		}
	}
	time.Sleep(500 * time.Millisecond) // the readers fail after the channel closed
	if strings.Contains(logs.String(), "netlink subscription") {
		t.Errorf("ending a watch logged:\n%s", logs.String())
	}
}

// TestWatchResubscribes: a burst of notifications larger than a
// subscription's socket buffer makes the kernel drop them (ENOBUFS) and
// ends the subscription. The watch subscribes again, lists the links, and
// sends what it missed (here the deleted link's link.del, whose
// notification was in the burst) and what comes later.
func TestWatchResubscribes(t *testing.T) {
	ns := newNS(t)
	m, logs := openLogged(t, ns)
	// A link with 64 addresses: deleting it is one request whose
	// notifications (an address and its local routes each) far exceed the
	// smallest socket buffer.
	var batch strings.Builder
	batch.WriteString("link add nkburst type veth peer name nkburstp\nlink set nkburst up\nlink set nkburstp up\n")
	for i := 1; i <= 64; i++ {
		fmt.Fprintf(&batch, "addr add 10.87.%d.1/24 dev nkburst\n", i)
	}
	file := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(file, []byte(batch.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	nsExec(t, ns, "ip", "-batch", file)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first subscription is made; of those after the burst, the first
	// two fail: OnTrouble hears the first failure, then that it recovered.
	var mu sync.Mutex
	var subscriptions int
	var trouble []error
	opts := WatchOptions{ReceiveBuffer: 1, Buffer: 4096,
		OnTrouble: func(err error) { mu.Lock(); trouble = append(trouble, err); mu.Unlock() },
		fault: func() error {
			mu.Lock()
			defer mu.Unlock()
			if subscriptions++; subscriptions == 2 || subscriptions == 3 {
				return errors.New("injected: no socket")
			}
			return nil
		}}
	events, err := m.Watch(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	nsExec(t, ns, "ip", "link", "del", "nkburst")
	waitEvent(t, events, "link.del", "nkburst")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), "no buffer space available") {
		if time.Now().After(deadline) {
			t.Fatalf("the burst did not end a subscription; log:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Changes after the failure arrive: the watch subscribed again.
	nsExec(t, ns, "ip", "link", "add", "nkafter", "type", "veth", "peer", "name", "nkafterp")
	nsExec(t, ns, "ip", "link", "set", "nkafterp", "up")
	nsExec(t, ns, "ip", "link", "set", "nkafter", "up")
	waitEvent(t, events, "link.up", "nkafter")
	mu.Lock()
	if len(trouble) != 2 || trouble[0] == nil || trouble[0].Error() != "injected: no socket" || trouble[1] != nil {
		t.Errorf("OnTrouble heard %v, want the injected error once, then nil", trouble)
	}
	mu.Unlock()
	cancel()
	for range events {
	}
}
