package aggregate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/wire"
)

func loadSrc(t *testing.T, src string) *Set {
	t.Helper()
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, "p.lua"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// A step is one evaluation at a time (seconds on a fake clock) with
// node n1's load, and what should come of it.
type step struct {
	at    int
	load  float64
	act   bool // act ran and decided (a new decision)
	stand bool // a decision stands from an earlier act (cooldown)
	safe  bool // the effect: n1 in safe state
}

// Hold and cooldown, as a node applies them (docs/policies.md), over
// evaluations whose memory goes through JSON between them as it goes
// through the broker between two admins' processes.
func TestHoldCooldown(t *testing.T) {
	const when = `when = function(f) return f.nodes[1].load[1] > 4 end,`
	const act = `act = function(f) node.set_state("n1", "safe") end,`
	tests := []struct {
		name, fields string
		steps        []step
	}{
		{"neither: acts at once, every time", ``, []step{
			{0, 9, true, false, true}, {30, 1, false, false, false}, {60, 9, true, false, true},
		}},
		// The worked example of docs/policies.md: every 30s, hold 2m.
		{"hold", `hold = "2m",`, []step{
			{0, 9, false, false, false}, {30, 9, false, false, false},
			{60, 1, false, false, false}, // false: the clock restarts
			{90, 9, false, false, false}, {180, 9, false, false, false},
			{210, 9, true, false, true}, // held 2 minutes since 90s
			{240, 9, true, false, true}, // no cooldown: it acts while it holds
			{270, 1, false, false, false},
		}},
		{"cooldown", `cooldown = "10m",`, []step{
			{0, 9, true, false, true},
			{300, 9, false, true, true}, // act does not run; its decision stands
			{420, 1, false, true, true}, // and stands while the condition is false, for the cooldown
			{600, 9, true, false, true}, // the cooldown is over at 10 minutes
			{660, 1, false, true, true},
			{1200, 1, false, false, false},
		}},
		{"hold and cooldown", `hold = "2m", cooldown = "10m",`, []step{
			{0, 9, false, false, false}, {120, 9, true, false, true},
			{180, 9, false, true, true}, {600, 1, false, true, true},
			{720, 9, false, false, false}, // cooldown over, but the condition restarts its hold at 720
			{840, 9, true, false, true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := loadSrc(t, `policy "guard" { `+tc.fields+when+act+` }`)
			t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
			var stored []byte
			for _, st := range tc.steps {
				mem := &Memory{}
				if stored != nil {
					if err := json.Unmarshal(stored, mem); err != nil {
						t.Fatal(err)
					}
				}
				now := t0.Add(time.Duration(st.at) * time.Second)
				v := &View{Nodes: []Node{{ID: "n1", HasTelemetry: true, Load: [3]float64{st.load, 0, 0}}}, Slices: map[string]*Slice{}}
				ds, eff, errs := s.EvaluateMemory(context.Background(), v, now, mem)
				if len(errs) > 0 {
					t.Fatalf("at %ds: %v", st.at, errs)
				}
				var act, stand bool
				for _, d := range ds {
					if d.Until.IsZero() {
						act = act || d.Time.Equal(now)
					} else {
						stand = true
						if !strings.Contains(d.String(), "standing") {
							t.Errorf("at %ds: %q does not say it stands", st.at, d)
						}
					}
				}
				if act != st.act || stand != st.stand || (eff.NodeState["n1"] == "safe") != st.safe {
					t.Errorf("at %ds (load %v): acted %v, standing %v, safe %v; want %v, %v, %v (decisions %v, waiting %q)", st.at, st.load,
						act, stand, eff.NodeState["n1"] == "safe", st.act, st.stand, st.safe, ds, mem.Waiting(s.Policies[0], now))
				}
				var err error
				if stored, err = json.Marshal(mem); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// An act that decided nothing starts no cooldown: the policy acts as
// soon as there is something to do.
func TestCooldownOnlyAfterADecision(t *testing.T) {
	s := loadSrc(t, `policy "p" { cooldown = "1h", act = function(f)
		for _, n in ipairs(f.nodes) do if n.flash_used_percent > 90 then node.set_state(n.id, "safe") end end
	end }`)
	mem := &Memory{}
	t0 := time.Unix(1e9, 0)
	v := &View{Nodes: []Node{{ID: "n1", HasTelemetry: true, FlashUsed: 50}}, Slices: map[string]*Slice{}}
	if ds, _, _ := s.EvaluateMemory(context.Background(), v, t0, mem); len(ds) != 0 {
		t.Fatalf("decisions %v, want none", ds)
	}
	v.Nodes[0].FlashUsed = 95
	ds, eff, _ := s.EvaluateMemory(context.Background(), v, t0.Add(time.Minute), mem)
	if len(ds) != 1 || eff.NodeState["n1"] != "safe" || !ds[0].Until.IsZero() {
		t.Fatalf("decisions %v, effects %v: want n1 safe at once", ds, eff.NodeState)
	}
	if w := mem.Waiting(s.Policies[0], t0.Add(2*time.Minute)); !strings.Contains(w, "cooldown until") {
		t.Errorf("waiting: %q", w)
	}
}

// The memory forgets policies that are gone; a standing decision whose
// node is gone is refused, not applied.
func TestMemoryForgetsAndRechecks(t *testing.T) {
	s := loadSrc(t, `policy "p" { cooldown = "1h", act = function(f) node.set_state("n1", "safe") end }`)
	mem := &Memory{Policies: map[string]*PolicyMemory{"gone": {}}}
	t0 := time.Unix(1e9, 0)
	s.EvaluateMemory(context.Background(), &View{Nodes: []Node{{ID: "n1"}}, Slices: map[string]*Slice{}}, t0, mem)
	if _, ok := mem.Policies["gone"]; ok {
		t.Error("the memory of a policy that is gone was kept")
	}
	ds, eff, _ := s.EvaluateMemory(context.Background(), &View{Nodes: []Node{{ID: "n2"}}, Slices: map[string]*Slice{}}, t0.Add(time.Minute), mem)
	if len(ds) != 1 || !strings.Contains(ds[0].Error, "no node n1") || len(eff.NodeState) != 0 {
		t.Errorf("decisions %v, effects %v: want the standing decision refused", ds, eff.NodeState)
	}
}

// The memory on the broker is believed only when a trusted admin signed
// it.
func TestParseMemory(t *testing.T) {
	a, _ := wire.GenerateKey()
	b, _ := wire.GenerateKey()
	m := &Memory{Who: "alice@laptop", Policies: map[string]*PolicyMemory{"p": {HeldSince: time.Unix(1e9, 0).UTC()}}}
	doc, _ := json.Marshal(m)
	env, err := wire.Seal(a, doc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseMemory(env, []wire.PublicKey{a.Public()})
	if err != nil || got.Policies["p"] == nil || !got.Policies["p"].HeldSince.Equal(time.Unix(1e9, 0)) {
		t.Errorf("signed by a trusted key: %+v, %v", got, err)
	}
	got, err = ParseMemory(env, []wire.PublicKey{b.Public()})
	if err == nil || !strings.Contains(err.Error(), "alice@laptop") || len(got.Policies) != 0 {
		t.Errorf("signed by another key: %+v, %v: want an empty memory and an error naming who", got, err)
	}
	if got, err := ParseMemory(doc, []wire.PublicKey{a.Public()}); err == nil || len(got.Policies) != 0 {
		t.Errorf("unsigned: %+v, %v", got, err)
	}
}
