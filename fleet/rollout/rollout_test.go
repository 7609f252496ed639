package rollout

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/fleet/sim"
)

// TestApplyPlacesSliceOnNNodes: a slice placed on 2 nodes of a group of 4
// gets exactly 2 slivers, in waves of 1 then 2; the owner's local sliver
// is never touched; a second apply has nothing to do.
func TestApplyPlacesSliceOnNNodes(t *testing.T) {
	ids := []string{"n1", "n2", "n3", "n4"}
	l := newLab(t, ids, map[string]sim.NodeOptions{"n2": {Local: []container.Spec{localSliver}}})
	f := writeFleet(t, map[string]string{
		"groups.yaml":     "groups:\n  lab:\n    nodes: [n1, n2, n3, n4]\n",
		"slices/exp.yaml": sliceYAML("{group: lab, count: 2}"),
		"slices/all.yaml": sliceYAML("{group: lab}"),
	})
	var out strings.Builder
	o := l.options(&out)
	o.Terminal = true
	rec, err := l.apply(f, o)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	if rec.State != Done || len(rec.Waves) != 3 || len(rec.Waves[0].Nodes) != 1 || len(rec.Waves[1].Nodes) != 2 {
		t.Errorf("record: state %s, waves %+v\n%s", rec.State, rec.Waves, out.String())
	}
	withExp := 0
	for _, id := range ids {
		n := l.nodes[id]
		r := remoteOn(n)
		if slices.Contains(r, "exp") {
			withExp++
		}
		if !slices.Contains(r, "all") {
			t.Errorf("%s: slivers %v, want all", id, r)
		}
		if rec.Nodes[id] == nil || rec.Nodes[id].Outcome != OutApplied {
			t.Errorf("%s: outcome %+v", id, rec.Nodes[id])
		}
	}
	if withExp != 2 {
		t.Errorf("slice exp on %d nodes, want 2", withExp)
	}
	if local, _ := l.nodes["n2"].Slivers(); len(local) != 1 || l.nodes["n2"].Report().Slivers[0].Name != "owners-own" {
		t.Errorf("n2's own sliver: %v", local)
	}
	// On a terminal, a wave's reports are one line updated in place.
	if !strings.Contains(out.String(), "wave 2: 2/2 reported: 2 applied, 0 refused, 0 pending, 0 failed") {
		t.Errorf("no progress line:\n%q", out.String())
	}
	// Nothing changes on a second apply; the record is no lock once done.
	out.Reset()
	rec2, err := l.apply(f, l.options(&out))
	if err != nil || len(rec2.Waves) != 0 || !strings.Contains(out.String(), "nothing to change") {
		t.Errorf("second apply: %v, %d waves\n%s", err, len(rec2.Waves), out.String())
	}
	for _, id := range ids {
		if recv, refused, _ := l.nodes[id].Counts(); recv != 1 || refused != 0 {
			t.Errorf("%s received %d documents, refused %d; want 1 and 0", id, recv, refused)
		}
	}
}

// TestApplyFailingWaveRollsBack: the canary applies, the second wave has
// a node whose sliver does not start: the rollout stops, and that wave's
// nodes get their previous documents back under a new seq.
func TestApplyFailingWaveRollsBack(t *testing.T) {
	ids := []string{"n1", "n2", "n3", "n4"}
	l := newLab(t, ids, map[string]sim.NodeOptions{"n3": {FailStart: map[string]bool{"exp": true}}})
	f := writeFleet(t, map[string]string{
		"groups.yaml":     "groups:\n  lab:\n    nodes: [n1, n2, n3, n4]\n",
		"slices/exp.yaml": sliceYAML("{group: lab}"),
	})
	var out strings.Builder
	rec, err := l.apply(f, l.options(&out))
	if !errors.Is(err, ErrWaveFailed) {
		t.Fatalf("apply: %v, want ErrWaveFailed\n%s", err, out.String())
	}
	if rec.State != RolledBack || len(rec.Waves) != 2 || rec.Waves[1].State != "failed" {
		t.Fatalf("record: %s %+v\n%s", rec.State, rec.Waves, out.String())
	}
	if got := remoteOn(l.nodes["n1"]); !slices.Equal(got, []string{"exp"}) {
		t.Errorf("canary n1: %v, want exp (its wave passed)", got)
	}
	if l.nodes["n4"].Report().AppliedSeq != 0 && rec.Nodes["n4"] == nil {
		t.Errorf("n4 was pushed though the rollout stopped before its wave")
	}
	for _, id := range rec.Waves[1].Nodes {
		no := rec.Nodes[id]
		if no.Outcome != OutRolledBack || no.RollbackSeq <= no.Seq {
			t.Errorf("%s: %+v, want rolled back with a new seq", id, no)
		}
		n := l.nodes[id]
		waitFor(t, id+" applying its previous document", func() bool { return n.Report().AppliedSeq == no.RollbackSeq })
		if got := remoteOn(n); len(got) != 0 {
			t.Errorf("%s after rollback: slivers %v, want none (it had no document before)", id, got)
		}
	}
	if no := rec.Nodes["n3"]; !strings.Contains(out.String(), "n3 seq") || !strings.Contains(out.String(), "did not start") {
		t.Errorf("n3: %+v\n%s", no, out.String())
	}
}

// TestApplyOfflineNodeCatchesUp: a node offline during the rollout is
// reported pending, not failed; its retained document reaches it when it
// comes back.
func TestApplyOfflineNodeCatchesUp(t *testing.T) {
	ids := []string{"n1", "n2", "n3"}
	l := newLab(t, ids, nil)
	l.nodes["n3"].Stop()
	f := writeFleet(t, map[string]string{
		"groups.yaml":     "groups:\n  lab:\n    nodes: [n1, n2, n3]\n",
		"slices/exp.yaml": sliceYAML("{group: lab}"),
	})
	var out strings.Builder
	rec, err := l.apply(f, l.options(&out))
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	if no := rec.Nodes["n3"]; no == nil || no.Outcome != OutPending {
		t.Fatalf("n3: %+v, want pending\n%s", no, out.String())
	}
	if err := l.nodes["n3"].Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n3 catching up", func() bool { return l.nodes["n3"].Report().AppliedSeq == rec.Nodes["n3"].Seq })
	if got := remoteOn(l.nodes["n3"]); !slices.Equal(got, []string{"exp"}) {
		t.Errorf("n3: %v", got)
	}
}

// TestApplyRefusalMovesToNextCandidate: a node whose owner refuses the
// sliver is a refusal, not a failure; the slice goes to the next
// candidate and the refusal is recorded.
func TestApplyRefusalMovesToNextCandidate(t *testing.T) {
	ids := []string{"n1", "n2", "n3"}
	no := func(container.Spec) string { return "not on my roof" }
	l := newLab(t, ids, map[string]sim.NodeOptions{"n1": {Admit: no}, "n2": {Admit: no}})
	f := writeFleet(t, map[string]string{
		"groups.yaml":     "groups:\n  lab:\n    nodes: [n1, n2, n3]\n",
		"slices/exp.yaml": sliceYAML("{group: lab, count: 1}"),
	})
	var out strings.Builder
	o := l.options(&out)
	o.MaxFailed = 0.01
	rec, err := l.apply(f, o)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	if got := remoteOn(l.nodes["n3"]); !slices.Equal(got, []string{"exp"}) {
		t.Errorf("n3: %v, want exp (the one node that admits it)\n%s", got, out.String())
	}
	for _, id := range []string{"n1", "n2"} {
		if got := remoteOn(l.nodes[id]); len(got) != 0 {
			t.Errorf("%s: %v", id, got)
		}
	}
	if rec.State != Done {
		t.Errorf("state %s\n%s", rec.State, out.String())
	}
	// Refusals the rollout met are kept for the next placements.
	if len(rec.Refusals["exp"]) != 2 {
		t.Errorf("refusals %v, want n1 and n2\n%s", rec.Refusals, out.String())
	}
	for id, why := range rec.Refusals["exp"] {
		if !strings.Contains(why, "not on my roof") {
			t.Errorf("refusal of %s: %q", id, why)
		}
	}
}

// TestApplyLock: a running rollout's record is the lock: a second apply
// refuses, naming who; --take-over starts anew; --resume continues the
// same plan.
func TestApplyLock(t *testing.T) {
	l := newLab(t, []string{"n1"}, nil)
	f := writeFleet(t, map[string]string{"slices/exp.yaml": sliceYAML("{nodes: [n1]}")})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	running := &Record{ID: "other", Who: "alice@laptop", State: Running, PlanHash: "abc", Started: time.Now()}
	if err := running.save(ctx, l.conn, l.key); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	_, err := l.apply(f, l.options(&out))
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "alice@laptop") {
		t.Fatalf("apply over a running rollout: %v", err)
	}
	o := l.options(&out)
	o.Resume = true
	if _, err := l.apply(f, o); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "plan") {
		t.Fatalf("resume of another plan: %v", err)
	}
	o = l.options(&out)
	o.TakeOver = true
	rec, err := l.apply(f, o)
	if err != nil || rec.State != Done || !strings.Contains(out.String(), "taking over rollout other of alice@laptop") {
		t.Fatalf("take over: %v %+v\n%s", err, rec, out.String())
	}
	got, err := Read(ctx, l.conn, nil, 200*time.Millisecond)
	if err == nil || got == nil || got.ID != rec.ID || got.State != Done {
		t.Errorf("retained record: %+v, %v (want it, not verifying without the key)", got, err)
	}
}
