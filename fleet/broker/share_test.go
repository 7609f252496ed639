package broker_test

import (
	"context"
	"fmt"
	"github.com/nodekeeper/nodekeeper/fleet/sim/simtest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/sim"
)

func dial(t *testing.T, o broker.Options) *broker.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := broker.Dial(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// ingester counts the telemetry documents one fleet process receives, by
// node and load (each simulated round has its own load).
type ingester struct {
	mu   sync.Mutex
	seen map[string]int
}

func (in *ingester) on(topic string, payload []byte) {
	t, err := inventory.ParseTelemetry(payload)
	if err != nil || t.System == nil {
		return
	}
	in.mu.Lock()
	in.seen[fmt.Sprintf("%s %v", topic, t.System.Load[0])]++
	in.mu.Unlock()
}

func (in *ingester) snapshot() map[string]int {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[string]int, len(in.seen))
	for k, v := range in.seen {
		out[k] = v
	}
	return out
}

// Two fleet processes in one share group get each of the simulated
// nodes' telemetry documents exactly once between them, and each still
// reads every retained status and state whole.
func TestShareSplitsDocuments(t *testing.T) {
	b := startBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const nodes, rounds = 12, 5
	var sims []*sim.Node
	for i := range nodes {
		n := sim.New(fmt.Sprintf("n%02d", i), sim.Options{Broker: b.URL()}, sim.NodeOptions{})
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Stop)
		sims = append(sims, n)
	}

	var group [2]*ingester
	var conns [2]*broker.Conn
	for i := range group {
		group[i] = &ingester{seen: map[string]int{}}
		conns[i] = dial(t, broker.Options{URL: b.URL(), Share: "ingest"})
		if got := conns[i].StreamFilter("nodekeeper/+/document"); got != "$share/ingest/nodekeeper/+/document" {
			t.Fatalf("StreamFilter = %q", got)
		}
		if err := conns[i].SubscribeStream(ctx, "nodekeeper/+/document", group[i].on); err != nil {
			t.Fatal(err)
		}
	}
	// A process outside the group sees every document: the control.
	all := &ingester{seen: map[string]int{}}
	if err := dial(t, broker.Options{URL: b.URL()}).SubscribeStream(ctx, "nodekeeper/+/document", all.on); err != nil {
		t.Fatal(err)
	}

	for r := 1; r <= rounds; r++ {
		for _, n := range sims {
			n.SetLoad([3]float64{float64(r), 0, 0})
			if err := n.PublishDocument(1, 1<<20); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := nodes * rounds
	deadline := time.Now().Add(60 * time.Second)
	for {
		a, s0, s1 := all.snapshot(), group[0].snapshot(), group[1].snapshot()
		if len(a) == want && sum(s0)+sum(s1) >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("documents: control %d of %d, group %d + %d", len(a), want, sum(s0), sum(s1))
		}
		time.Sleep(50 * time.Millisecond)
	}
	s0, s1 := group[0].snapshot(), group[1].snapshot()
	if sum(s0)+sum(s1) != want {
		t.Errorf("the group received %d + %d documents, want %d between them", sum(s0), sum(s1), want)
	}
	for k := range all.snapshot() {
		if s0[k]+s1[k] != 1 {
			t.Errorf("document %s: received %d + %d times by the group, want once", k, s0[k], s1[k])
		}
	}
	if sum(s0) == 0 || sum(s1) == 0 {
		t.Errorf("the group did not split the documents: %d and %d", sum(s0), sum(s1))
	}
	t.Logf("split: %d and %d of %d documents", sum(s0), sum(s1), want)

	// Retained topics are read whole by each process of the group.
	for i, c := range conns {
		msgs, err := c.Retained(ctx, []string{"nodekeeper/+/status", "nodekeeper/+/state"}, 300*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range sims {
			for _, leaf := range []string{"status", "state"} {
				if _, ok := msgs["nodekeeper/"+n.ID+"/"+leaf]; !ok {
					t.Errorf("process %d: no retained %s of %s", i, leaf, n.ID)
				}
			}
		}
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestShareGroupGrammar(t *testing.T) {
	for _, tc := range []struct {
		s  string
		ok bool
	}{
		{"ingest", true}, {"fleet-1.a_b", true}, {strings.Repeat("g", 64), true},
		{"", false}, {strings.Repeat("g", 65), false}, {"a/b", false}, {"+", false}, {"#", false},
		{"a b", false}, {"grüppe", false}, {"a\x00", false}, {"$share", false},
	} {
		if got := broker.ValidShareGroup(tc.s); got != tc.ok {
			t.Errorf("ValidShareGroup(%q) = %v, want %v", tc.s, got, tc.ok)
		}
	}
	if _, err := broker.Dial(context.Background(), broker.Options{URL: "tcp://127.0.0.1:1", Share: "a/b"}); err == nil || !strings.Contains(err.Error(), "share group") {
		t.Errorf("Dial with share group a/b: %v, want a share group error", err)
	}
}

// startBroker starts a mosquitto for the test (simtest).
var startBroker = simtest.Broker
