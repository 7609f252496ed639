package main

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAggregationMovesSliverOffOverloadedNode: an aggregation policy sees
// the node that runs the slice stay overloaded; in a dry run (the
// default) it only says so; with --policies on, apply moves the sliver
// to the next node of the group through the rollout.
func TestAggregationMovesSliverOffOverloadedNode(t *testing.T) {
	l := newSimLab(t, []string{"n1", "n2", "n3"}, nil)
	src, err := os.ReadFile("../../fleet/aggregate/testdata/examples/move-off-overloaded.lua")
	if err != nil {
		t.Fatal(err)
	}
	d := writeTree(t, map[string]string{
		"groups.yaml":                       "groups:\n  lab:\n    nodes: [n1, n2, n3]\n",
		"slices/exp.yaml":                   "template: {url: 'http://repo/x.tar.gz', sha256: " + sha + "}\nset_state: start\nplacement: {group: lab, count: 1}\n",
		"aggregate/move-off-overloaded.lua": string(src),
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
	move := "policy move-off-overloaded: slice.move(exp, " + busy + ")"
	st, out := run(append([]string{"plan", d, "--documents", "1s"}, br...)...)
	if st != 0 || !strings.Contains(out, move+" [dry run") {
		t.Fatalf("plan (dry run): %d, want 0 and %q\n%s", st, move, out)
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
}
