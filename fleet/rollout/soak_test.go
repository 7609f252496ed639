package rollout

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/sim"
)

// TestApplySoakOffline: a canary that goes offline during its soak fails
// the wave: the rollout stops there and rolls the canary back.
func TestApplySoakOffline(t *testing.T) {
	l := newLab(t, []string{"n1", "n2"}, nil)
	f := writeFleet(t, map[string]string{"slices/exp.yaml": sliceYAML("{nodes: [n1, n2]}")})
	out := &lockedBuilder{}
	o := l.options(&strings.Builder{})
	o.Out = out
	o.Soak = 2 * time.Minute // ended early by the failure, never waited out
	// Once the fleet has the canary's report and soaks it, the canary dies.
	go when(func() bool { return strings.Contains(out.String(), "soak") }, l.nodes["n1"].Stop)
	rec, err := l.apply(f, o)
	if !errors.Is(err, ErrWaveFailed) || !strings.Contains(out.String(), "n1 went offline during the soak") {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	if no := rec.Nodes["n1"]; no.Outcome != OutRolledBack || rec.Nodes["n2"] != nil {
		t.Errorf("n1 %+v, n2 %+v: want n1 rolled back, n2 untouched", no, rec.Nodes["n2"])
	}
}

// TestApplyResume: an apply interrupted after its first wave leaves the
// record running; apply --resume continues where it stopped, with the
// same record, and pushes no node twice.
func TestApplyResume(t *testing.T) {
	ids := []string{"n1", "n2", "n3"}
	l := newLab(t, ids, nil)
	f := writeFleet(t, map[string]string{"slices/exp.yaml": sliceYAML("{nodes: [n1, n2, n3]}")})
	var out strings.Builder
	o := l.options(&out)
	lb := &lockedBuilder{}
	o.Out = lb
	o.Soak = 2 * time.Minute // interrupted during the canary's soak
	ctx, cancel := context.WithCancel(context.Background())
	go when(func() bool { return strings.Contains(lb.String(), "soak") }, cancel)
	rec, err := Apply(ctx, l.conn, f, o)
	if !errors.Is(err, context.Canceled) || rec.State != Running {
		t.Fatalf("interrupted apply: %v, %+v\n%s", err, rec, lb.String())
	}
	// A second apply without --resume is refused: the record is the lock.
	if _, err := l.apply(f, l.options(&out)); !errors.Is(err, ErrLocked) {
		t.Fatalf("apply over an interrupted one: %v", err)
	}
	o = l.options(&out)
	o.Resume = true
	rec2, err := l.apply(f, o)
	if err != nil || rec2.ID != rec.ID || rec2.State != Done || !strings.Contains(out.String(), "resuming rollout "+rec.ID) {
		t.Fatalf("resume: %v %+v\n%s", err, rec2, out.String())
	}
	if rec2.Nodes["n1"].Outcome != OutApplied {
		t.Errorf("the canary: %+v", rec2.Nodes["n1"])
	}
	if len(rec2.Waves) != 2 || len(rec2.Waves[1].Nodes) != 2 {
		t.Errorf("waves %+v: want the canary, then the other two", rec2.Waves)
	}
	for _, id := range ids {
		if recv, _, _ := l.nodes[id].Counts(); recv != 1 {
			t.Errorf("%s received %d documents, want 1", id, recv)
		}
	}
}

// when runs then once cond holds (polled; gives up after a minute, and
// the test then fails on what did not happen). For goroutines: no t.Fatal.
func when(cond func() bool, then func()) {
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	then()
}

// lockedBuilder is a strings.Builder for a writer and a reader at once.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestApplyWaveTimeout: a node that stays online but never reports its
// document fails its wave when the wave's time is up.
func TestApplyWaveTimeout(t *testing.T) {
	l := newLab(t, []string{"n1", "n2"}, map[string]sim.NodeOptions{"n1": {Mute: true}})
	f := writeFleet(t, map[string]string{"slices/exp.yaml": sliceYAML("{nodes: [n1, n2]}")})
	var out strings.Builder
	o := l.options(&out)
	o.WaveTimeout = 2 * time.Second
	rec, err := l.apply(f, o)
	if !errors.Is(err, ErrWaveFailed) || !strings.Contains(out.String(), "n1 seq 1: failed: no state report about seq 1 within") {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	if rec.Nodes["n2"] != nil {
		t.Errorf("n2 pushed after the canary failed: %+v", rec.Nodes["n2"])
	}
}
