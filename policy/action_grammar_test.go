package policy

import (
	"context"
	"strings"
	"testing"
)

// TestActionGrammar: what a policy's actions carry to the agent (names
// that reach sliver and netcfg lookups, limits that reach lxc-cgroup) is
// held to one grammar, by class, in Lua and again where the engine takes
// the worker's word. A float beyond int64 converted to whatever the CPU
// gives (a negative memory limit on amd64).
func TestActionGrammar(t *testing.T) {
	for _, tt := range []struct {
		class, act, want string
	}{
		{"limit beyond int64", `sliver.limit("s1", {memory_bytes = 1e300})`, "memory_bytes must be a positive number up to"},
		{"limit beyond any node", `sliver.limit("s1", {pids = 2^40})`, "pids must be a positive number up to"},
		{"cpu beyond any node", `sliver.limit("s1", {cpu = 1e12})`, "cpu must be a positive number up to"},
		{"limit NaN", `sliver.limit("s1", {cpu = 0/0})`, "cpu must be a positive number"},
		{"name with a control character", `sliver.start("s1\r\27[2J")`, "must be a name"},
		{"name with a NUL", `iface.down("eth0\0")`, "must be a name"},
		{"name too long", `sliver.stop(string.rep("a", 65))`, "must be a name"},
		{"uci section too long", `uci.set("wireless", string.rep("s", 65), "o", "v")`, "at most 64 bytes"},
	} {
		t.Run(tt.class, func(t *testing.T) {
			e, rec := newTestEngine(t, nil)
			mustLoad(t, e, "p.lua", `policy "p" { every = "1s", act = function(node) `+tt.act+` end }`)
			ds := e.Tick(context.Background(), t0)
			d, _ := find(ds, "p")
			if !strings.Contains(d.Error, tt.want) {
				t.Errorf("decision error %q, want it to say %q", d.Error, tt.want)
			}
			if len(rec.acts) != 0 {
				t.Errorf("acted: %v", rec.acts)
			}
		})
	}

	// The engine's own check: what a lying worker could report.
	e, _ := newTestEngine(t, nil)
	p := &rtPolicy{}
	for _, tt := range []struct {
		class string
		a     Action
	}{
		{"sliver name with newline", Action{Op: OpSliverStart, Sliver: "s1\nx"}},
		{"sliver name huge", Action{Op: OpSliverStop, Sliver: strings.Repeat("s", 1<<16)}},
		{"iface name with space", Action{Op: OpIfaceUp, Iface: "eth0 up"}},
		{"negative memory", Action{Op: OpSliverLimit, Sliver: "s1", MemoryBytes: -1 << 63}},
		{"negative cpu", Action{Op: OpSliverLimit, Sliver: "s1", CPU: -1}},
		{"huge pids", Action{Op: OpSliverLimit, Sliver: "s1", Pids: 1 << 40}},
		{"no limit", Action{Op: OpSliverLimit, Sliver: "s1"}},
		{"uci value huge", Action{Op: OpUCISet, Package: "wireless", Section: "s", Option: "o", Value: strings.Repeat("v", 1<<20)}},
		{"alert level", Action{Op: OpAlert, Level: "emergency", Message: "x"}},
		{"alert message huge", Action{Op: OpAlert, Level: "info", Message: strings.Repeat("m", 1<<20)}},
	} {
		if problem := e.check(p, tt.a); problem == "" {
			t.Errorf("engine check passed %s", tt.class)
		} else if len(problem) > 256 {
			t.Errorf("%s: problem of %d bytes quotes the input", tt.class, len(problem))
		}
	}
	for _, a := range []Action{
		{Op: OpSliverLimit, Sliver: "s1", CPU: 0.5, MemoryBytes: 64 << 20, Pids: 64},
		{Op: OpIfaceDown, Iface: "nkbr0.5"},
		{Op: OpAlert, Level: "warning", Message: "hot"},
	} {
		if problem := e.check(p, a); problem != "" {
			t.Errorf("engine check refused %v: %s", a, problem)
		}
	}
}

// TestPolicyNameGrammar: a policy's name reaches logs, events and the
// admin's terminal: printable ASCII only, 1 to 64 bytes.
func TestPolicyNameGrammar(t *testing.T) {
	for _, name := range []string{`"cpu\27[2J"`, `"a\nb"`, `"\0"`, `string.rep("p", 65)`, `"é"`} {
		e, _ := newTestEngine(t, nil)
		err := e.Load("p.lua", []byte(`policy(`+name+`) { every = "1s", act = function(node) end }`))
		if err == nil || !strings.Contains(err.Error(), "policy needs a name") {
			t.Errorf("policy %s: %v, want the name refused", name, err)
		}
	}
	e, _ := newTestEngine(t, nil)
	mustLoad(t, e, "p.lua", `policy "cpu guard-1.2" { every = "1s", act = function(node) end }`)
}
