package main

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// exampleHeld is the move-off-overloaded example with its 10-minute hold
// shortened to a second.
func exampleHeld(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../../fleet/aggregate/testdata/examples/move-off-overloaded.lua")
	if err != nil {
		t.Fatal(err)
	}
	held := strings.Replace(string(src), `hold     = "10m"`, `hold     = "1s"`, 1)
	if held == string(src) {
		t.Fatal("move-off-overloaded.lua has no 10-minute hold to shorten")
	}
	return held
}

// TestAggregationMovesSliverOffOverloadedNode: an aggregation policy sees
// the node that runs the slice stay overloaded; the first apply's
// evaluation starts its hold (remembered on the broker); once it has
// held, a plan (a dry run, the default) only says what it would do; with
// --policies on, apply moves the sliver to the next node of the group
// through the rollout; during the policy's cooldown the decision stands
// and the sliver stays where it went.
func TestAggregationMovesSliverOffOverloadedNode(t *testing.T) {
	l := newSimLab(t, []string{"n1", "n2", "n3"}, nil)
	d := writeTree(t, map[string]string{
		"groups.yaml":     "groups:\n  lab:\n    nodes: [n1, n2, n3]\n",
		"slices/exp.yaml": "template: {url: 'http://repo/x.tar.gz', sha256: " + sha + "}\nset_state: start\nplacement: {group: lab, count: 1}\n",
	})
	br := []string{"--broker", l.b.URL(), "--quiet", "200ms"}
	if st, out := run(append([]string{"apply", d, "-k", l.key, "--soak", "0"}, br...)...); st != 0 {
		t.Fatalf("apply: %d\n%s", st, out)
	}
	var busy string
	for id, n := range l.nodes {
		if _, r := n.Slivers(); slices.Contains(r, "exp") {
			busy = id
		}
	}
	if busy == "" {
		t.Fatal("exp placed nowhere")
	}
	l.nodes[busy].SetLoad([3]float64{9, 8, 7.5})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				for _, n := range l.nodes {
					n.PublishDocument(5, 1<<20)
				}
			}
		}
	}()
	os.MkdirAll(d+"/aggregate", 0o755)
	os.WriteFile(d+"/aggregate/move-off-overloaded.lua", []byte(exampleHeld(t)), 0o644)
	move := "policy move-off-overloaded: slice.move(exp, " + busy + ")"
	st, out := run(append([]string{"apply", d, "-k", l.key, "--soak", "0", "--policies", "on", "--documents", "1s"}, br...)...)
	if st != 0 || strings.Contains(out, move) || !strings.Contains(out, "policy move-off-overloaded: condition true, holding 0s of 1s") {
		t.Fatalf("apply --policies on, the first evaluation: %d, want 0, no move and the hold starting\n%s", st, out)
	}
	pub := strings.TrimSuffix(l.key, ".sec") + ".pub"
	st, out = run(append([]string{"plan", d, "--documents", "1s", "--pub", pub}, br...)...)
	if st != 0 || !strings.Contains(out, move+" [dry run") {
		t.Fatalf("plan (dry run) once the condition held: %d, want 0 and %q\n%s", st, move, out)
	}
	st, out = run(append([]string{"apply", d, "-k", l.key, "--soak", "0", "--policies", "on", "--documents", "1s"}, br...)...)
	if st != 0 || !strings.Contains(out, move+" [applied to the plan]") {
		t.Fatalf("apply --policies on: %d\n%s", st, out)
	}
	holders := 0
	for id, n := range l.nodes {
		if _, r := n.Slivers(); slices.Contains(r, "exp") {
			holders++
			if id == busy {
				t.Errorf("exp still on the overloaded %s\n%s", busy, out)
			}
		}
	}
	if holders != 1 {
		t.Errorf("exp on %d nodes, want 1\n%s", holders, out)
	}
	// In the cooldown the decision stands: nothing moves back.
	st, out = run(append([]string{"apply", d, "-k", l.key, "--soak", "0", "--policies", "on"}, br...)...)
	if st != 0 || !strings.Contains(out, move+" (standing: decided") || !strings.Contains(out, "in its cooldown until") {
		t.Errorf("apply in the cooldown: %d, want the move standing\n%s", st, out)
	}
	if _, r := l.nodes[busy].Slivers(); slices.Contains(r, "exp") {
		t.Errorf("exp went back to %s in the cooldown\n%s", busy, out)
	}
}
