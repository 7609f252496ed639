package aggregate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func loadExamples(t *testing.T) *Set {
	t.Helper()
	s, err := Load("testdata/examples")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestExamples(t *testing.T) {
	busy := Node{ID: "n1", Online: true, NodeState: "production", HasTelemetry: true, Load: [3]float64{9, 7, 6.5},
		Slivers: []Sliver{{Name: "exp", Slice: "exp", State: "started", Remote: true}, {Name: "mine", Slice: "mine", State: "started"}}}
	spike := Node{ID: "n2", Online: true, NodeState: "production", HasTelemetry: true, Load: [3]float64{12, 3, 1},
		Slivers: []Sliver{{Name: "exp", Slice: "exp", State: "started", Remote: true}}}
	full := Node{ID: "n3", Online: true, NodeState: "production", HasTelemetry: true, FlashUsed: 95}
	failing := &Slice{Name: "bad", Placed: []string{"n1", "n2", "n3"}, Count: 3, States: map[string]int{"fail_start": 2, "started": 1}, Failed: 2}
	fine := &Slice{Name: "exp", Placed: []string{"n1", "n2"}, Count: 2, States: map[string]int{"started": 2}}
	v := &View{Nodes: []Node{busy, spike, full}, Slices: map[string]*Slice{"exp": fine, "bad": failing}}
	// move-off-overloaded holds 10 minutes: the busy node stays busy
	// through evaluations a minute apart, remembered between them.
	set := loadExamples(t)
	mem := &Memory{}
	t0 := time.Unix(1e9, 0)
	for m := 0; m < 10; m++ {
		_, eff, errs := set.EvaluateMemory(context.Background(), v, t0.Add(time.Duration(m)*time.Minute), mem)
		if len(errs) > 0 {
			t.Fatalf("errors: %v", errs)
		}
		if len(eff.Avoid) > 0 {
			t.Fatalf("minute %d: moved %v before the 10-minute hold", m, eff.Avoid)
		}
	}
	ds, eff, errs := set.EvaluateMemory(context.Background(), v, t0.Add(10*time.Minute), mem)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if why := eff.Avoid["exp"]["n1"]; !strings.Contains(why, "move-off-overloaded") || len(eff.Avoid["exp"]) != 1 {
		t.Errorf("moved: %v, want exp off n1 only (n2's load is a spike; n1's own sliver is no fleet slice)", eff.Avoid)
	}
	if !eff.SliceStop["bad"] || eff.SliceStop["exp"] {
		t.Errorf("stopped: %v, want bad (2 of 3 failed) only", eff.SliceStop)
	}
	if eff.NodeState["n3"] != "safe" || len(eff.NodeState) != 1 {
		t.Errorf("node states: %v, want n3 safe", eff.NodeState)
	}
	if len(eff.Alerts) != 1 || eff.Alerts[0] != "stop-failing-slice: slice bad: 2 of 3 slivers failed: stopped" {
		t.Errorf("alerts: %q", eff.Alerts)
	}
	// Every decision is there to log.
	var all []string
	for _, d := range ds {
		all = append(all, d.String())
	}
	for _, want := range []string{"policy move-off-overloaded: slice.move(exp, n1)", "policy stop-failing-slice: slice.stop(bad)", "policy flash-safe: node.set_state(n3, safe)"} {
		if !strings.Contains(strings.Join(all, "\n"), want) {
			t.Errorf("decisions %q lack %q", all, want)
		}
	}
}

func TestPolicyErrors(t *testing.T) {
	tests := []struct {
		name, src string
		loadErr   string
		evalErr   string
		refused   string
	}{
		{"no io", `local f = io.open("/etc/passwd")`, "io", "", ""},
		{"no os", `policy "p" { act = function() os.execute("true") end }`, "", "os", ""},
		{"syntax", "policy \"p\" {\n  act = function( end,\n}", "p.lua:2:", "", ""},
		{"unknown field", `policy "p" { act = function() end, hodl = "1m" }`, `unknown field "hodl"`, "", ""},
		{"bare number hold", `policy "p" { act = function() end, hold = 60 }`, `policy "p": hold: want a duration string`, "", ""},
		{"bad cooldown", `policy "p" { act = function() end, cooldown = "5 minutes" }`, `policy "p": cooldown: invalid duration`, "", ""},
		{"runaway", `policy "p" { act = function() while true do end end }`, "", "context deadline exceeded", ""},
		{"bad action argument", `policy "p" { act = function() node.set_state("nope", "safe") end }`, "", "", "no node nope"},
		{"bad state", `policy "p" { act = function(f) node.set_state(f.nodes[1].id, "asleep") end }`, "", "", "state asleep"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			os.WriteFile(filepath.Join(d, "p.lua"), []byte(tc.src), 0o644)
			s, err := Load(d)
			if tc.loadErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.loadErr) {
					t.Fatalf("load: %v, want %q", err, tc.loadErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.Budget = 200 * time.Millisecond
			ds, _, errs := s.Evaluate(context.Background(), &View{Nodes: []Node{{ID: "n1"}}, Slices: map[string]*Slice{}}, time.Unix(0, 0))
			if tc.evalErr != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.evalErr)) {
				t.Errorf("evaluate: %v, want %q", errs, tc.evalErr)
			}
			if tc.refused != "" && (len(ds) != 1 || !strings.Contains(ds[0].Error, tc.refused)) {
				t.Errorf("decisions: %+v, want refused %q", ds, tc.refused)
			}
		})
	}
}
