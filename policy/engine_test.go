package policy

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var bg = context.Background()

func TestThresholdPolicyActsOnBusySlivers(t *testing.T) {
	e, rec := newTestEngine(t, nil)
	mustLoad(t, e, "cpu.lua", `
policy "cpu-guard" {
  every = "30s",
  when = function(node) return node.system.load[1] > 0.4 end,
  act = function(node)
    for _, s in ipairs(node.slivers) do
      if s.cpu_percent > 50 then sliver.limit(s.name, { cpu = 0.5 }) end
    end
    alert("warning", "load %.2f", node.system.load[1])
  end,
}`)
	ds := e.Tick(bg, t0)
	d, ok := find(ds, "cpu-guard")
	if !ok || !d.Fired || d.Source != "cpu.lua:2" || d.Trigger != "every 30s" {
		t.Fatalf("decision %+v", d)
	}
	// The actuator learns which policy acts (the source of its alerts).
	want := []Action{{Op: OpSliverLimit, Sliver: "s4", CPU: 0.5, Policy: "cpu-guard"}, {Op: OpAlert, Level: "warning", Message: "load 0.42", Policy: "cpu-guard"}}
	if got := rec.actions(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("actions %+v, want %+v", got, want)
	}
	if strings.Join(d.Inputs, ",") != "slivers[].cpu_percent,slivers[].name,system.load" {
		t.Errorf("inputs %v", d.Inputs)
	}
	// The decision records what the inputs were, not only their names.
	if b, _ := json.Marshal(d.Values); string(b) != `{"slivers[].cpu_percent":[12.5,85.0],"slivers[].name":["s4"],"system.load":[0.42,0.36,0.30]}` {
		t.Errorf("input values %s", b)
	}
	if ds := e.Tick(bg, t0.Add(10*time.Second)); len(ds) != 0 {
		t.Errorf("evaluated before its period: %+v", ds)
	}
	if ds := e.Tick(bg, t0.Add(30*time.Second)); len(ds) != 1 {
		t.Errorf("not evaluated after its period: %+v", ds)
	}
}

func TestHoldAndCooldown(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	mustLoad(t, e, "h.lua", `policy "h" { every = "30s", hold = "1m", cooldown = "5m",
	  when = function(node) return node.seq > 0 end, act = function() alert("info", "x") end }`)
	fired := func(at time.Duration) bool {
		d, _ := find(e.Tick(bg, t0.Add(at)), "h")
		return d.Fired
	}
	steps := []struct {
		at   time.Duration
		want bool
	}{{0, false}, {30 * time.Second, false}, {time.Minute, true}, {90 * time.Second, false}, {5 * time.Minute, false}, {6 * time.Minute, true}}
	for _, s := range steps {
		if got := fired(s.at); got != s.want {
			t.Errorf("at %v: fired %v, want %v", s.at, got, s.want)
		}
	}
}

// TestCooldownOnlyAfterActing: an act that performed nothing (no action,
// no alert: only a log line) starts no cooldown; one that acted does.
func TestCooldownOnlyAfterActing(t *testing.T) {
	tests := []struct {
		name, act string
		want      []bool // fired and acting at 0s, 1m, 2m
	}{
		{"nothing to do", `log("no sliver yet")`, []bool{true, true, true}},
		{"alert", `alert("info", "x")`, []bool{true, false, false}},
		{"action", `sliver.stop("s3")`, []bool{true, false, false}},
		{"first nothing, then an action", `state.runs = (state.runs or 0) + 1; if state.runs > 1 then sliver.stop("s3") end`, []bool{true, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newTestEngine(t, nil)
			mustLoad(t, e, "c.lua", `policy "c" { every = "30s", cooldown = "1h", act = function(node) `+tt.act+` end }`)
			for i, want := range tt.want {
				d, _ := find(e.Tick(bg, t0.Add(time.Duration(i)*time.Minute)), "c")
				if d.Fired != want {
					t.Errorf("at %dm: fired %v, want %v (decision %+v)", i, d.Fired, want, d)
				}
			}
		})
	}
}

func TestPriorityResolvesConflicts(t *testing.T) {
	e, rec := newTestEngine(t, nil)
	mustLoad(t, e, "a.lua", `policy "stopper" { every = "1s", priority = 20, act = function() sliver.stop("s3") end }`)
	mustLoad(t, e, "b.lua", `policy "limiter" { every = "1s", priority = 5, act = function() sliver.limit("s3", {cpu = 0.2}); iface.down("eth0") end }`)
	ds := e.Tick(bg, t0)
	lim, _ := find(ds, "limiter")
	if len(lim.Actions) != 2 || lim.Actions[0].Result != ResultOverridden || !strings.Contains(lim.Actions[0].Detail, "stopper") {
		t.Fatalf("loser's decision: %+v", lim.Actions)
	}
	if lim.Actions[1].Result != ResultDone {
		t.Errorf("non-conflicting action: %+v", lim.Actions[1])
	}
	got := rec.actions()
	if len(got) != 2 || got[0].Op != OpSliverStop || got[1].Op != OpIfaceDown {
		t.Errorf("performed %+v", got)
	}
}

func TestDryRunPerformsNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		engine bool
		field  string
	}{{"engine", true, ""}, {"policy", false, "dry_run = true,"}} {
		t.Run(tc.name, func(t *testing.T) {
			e, rec := newTestEngine(t, func(c *Config) { c.DryRun = tc.engine })
			mustLoad(t, e, "d.lua", `policy "d" { every = "1s", `+tc.field+` act = function() sliver.stop("s3") end }`)
			d, _ := find(e.Tick(bg, t0), "d")
			if !d.Fired || !d.DryRun || d.Actions[0].Result != ResultDryRun || len(rec.actions()) != 0 {
				t.Fatalf("decision %+v, performed %v", d, rec.actions())
			}
		})
	}
}

func TestStateSurvivesReloadAndWorkerRestart(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	src := `policy "count" { every = "1s", act = function() state.n = (state.n or 0) + 1; log("n=%d", state.n) end }`
	mustLoad(t, e, "c.lua", src)
	mustLoad(t, e, "bomb.lua", `policy "bomb" { every = "1s", act = function() local s = "x" while true do s = s .. s end end }`)
	logs := func(at int) string {
		d, _ := find(e.Tick(bg, t0.Add(time.Duration(at)*time.Second)), "count")
		return strings.Join(d.Logs, ",")
	}
	if got := logs(0); got != "n=1" {
		t.Fatalf("first: %q", got)
	}
	e.Unload("bomb.lua")
	mustLoad(t, e, "c.lua", src+"\n-- edited")
	if got := logs(1); got != "n=2" {
		t.Fatalf("after reload: %q", got)
	}
	e.mu.Lock()
	e.dropWorker()
	e.mu.Unlock()
	if got := logs(2); got != "n=3" {
		t.Fatalf("after worker restart: %q", got)
	}
}

func TestQuarantineWithBackoff(t *testing.T) {
	e, _ := newTestEngine(t, func(c *Config) { c.QuarantineAfter = 2; c.QuarantineBackoff = time.Minute })
	mustLoad(t, e, "f.lua", `policy "flaky" { every = "1s", act = function(node) if node.seq > 0 then error("broken") end end }`)
	at := func(s int) (Decision, bool) { return find(e.Tick(bg, t0.Add(time.Duration(s)*time.Second)), "flaky") }
	d, _ := at(0)
	if d.Error != "f.lua:1: broken" || d.Quarantined != nil {
		t.Fatalf("first failure: %+v", d)
	}
	d, _ = at(1)
	if d.Quarantined == nil || !d.Quarantined.Equal(t0.Add(61*time.Second)) {
		t.Fatalf("second failure not quarantined for 1m: %+v", d)
	}
	if _, ran := at(30); ran {
		t.Fatal("ran in quarantine")
	}
	d, _ = at(61) // retried once, fails: back-off doubles
	if d.Quarantined == nil || !d.Quarantined.Equal(t0.Add(181*time.Second)) {
		t.Fatalf("retry: %+v", d)
	}
	if st := e.Policies(); st[0].QuarantinedUntil.IsZero() || st[0].Failures != 3 {
		t.Errorf("status %+v", st)
	}
}

func TestFailedReloadKeepsPreviousVersion(t *testing.T) {
	dir := t.TempDir()
	e, _ := newTestEngine(t, func(c *Config) { c.Dir = dir })
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.lua", `policy "a" { every = "1s", act = function() log("v1") end }`)
	write("b.lua", `policy "b" { every = "1s", act = function() log("b") end }`)
	write("a_test.lua", `this is not loaded by the engine`)
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	write("a.lua", `policy "a" { every = "1s", act = function() log("v2") end `) // syntax error
	err := e.Reload()
	var lerr *LoadError
	if err == nil || !strings.Contains(err.Error(), "a.lua:1:") {
		t.Fatalf("reload error %v (%T)", err, lerr)
	}
	d, _ := find(e.Tick(bg, t0), "a")
	if strings.Join(d.Logs, "") != "v1" {
		t.Fatalf("previous version not kept: %+v", d)
	}
	os.Remove(filepath.Join(dir, "b.lua"))
	write("a.lua", `policy "a" { every = "1s", act = function() log("v3") end }`)
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	ds := e.Tick(bg, t0.Add(time.Second))
	if d, _ := find(ds, "a"); strings.Join(d.Logs, "") != "v3" {
		t.Fatalf("fixed version not loaded: %+v", ds)
	}
	if _, ok := find(ds, "b"); ok {
		t.Fatal("removed file still runs")
	}
}

func TestEventsAndAdmission(t *testing.T) {
	e, rec := newTestEngine(t, nil)
	mustLoad(t, e, "ev.lua", `
policy "on-down" { on = "link.down", act = function(node, ev) iface.up(ev.iface) end }
policy "admit" { on = "sliver.admit", priority = 1,
  act = function(node, req)
    if req.resources.memory_bytes > node.system.memory.available_bytes then
      refuse("%s wants %d bytes", req.slice, req.resources.memory_bytes)
    end
  end }`)
	ds := e.Event(bg, Event{Name: "link.down", Data: map[string]any{"iface": "wlan0-mesh"}}, t0)
	if d, _ := find(ds, "on-down"); !d.Fired || d.Trigger != "event link.down" || rec.actions()[0].Iface != "wlan0-mesh" {
		t.Fatalf("event decision %+v", ds)
	}
	a := e.Admit(bg, AdmitRequest{Slice: "big", Resources: Resources{MemoryBytes: 1 << 30}}, t0)
	if a.Allowed || a.Policy != "admit" || a.Reason != "big wants 1073741824 bytes" {
		t.Fatalf("admission %+v", a)
	}
	if a := e.Admit(bg, AdmitRequest{Slice: "small", Resources: Resources{MemoryBytes: 1 << 20}}, t0); !a.Allowed {
		t.Fatalf("small sliver refused: %+v", a)
	}
}

func TestUCIAllowListAndPeers(t *testing.T) {
	e, rec := newTestEngine(t, nil)
	rec.uci["wireless.radio0.channel"] = "36"
	rec.peerDocs = map[string][]byte{"nk-2": []byte(`{"system":{"load":[3.5]}}`), "nk-3": []byte(`{"system":{"load":[0.5]}}`)}
	mustLoad(t, e, "u.lua", `
policy "uci" { every = "1s", act = function()
  if uci.get("wireless", "radio0", "channel") == "36" then uci.set("wireless", "radio0", "channel", 40) end
  uci.commit("wireless")
end }
policy "peers" { every = "1s", act = function()
  local busy = 0
  for id, doc in pairs(peers()) do if doc.system.load[1] > 1 then busy = busy + 1 end end
  log("busy peers: %d", busy)
end }
policy "forbidden" { every = "1s", act = function() uci.set("network", "lan", "ipaddr", "1.2.3.4") end }`)
	ds := e.Tick(bg, t0)
	if d, _ := find(ds, "uci"); len(d.Actions) != 2 || d.Actions[0].Value != "40" || d.Actions[1].Result != ResultDone {
		t.Errorf("uci: %+v", d)
	}
	if d, _ := find(ds, "peers"); strings.Join(d.Logs, "") != "busy peers: 1" {
		t.Errorf("peers: %+v", d)
	}
	if d, _ := find(ds, "forbidden"); !strings.Contains(d.Error, `u.lua:11: uci.set: package "network" is not allow-listed`) {
		t.Errorf("forbidden: %+v", d)
	}
}

func TestRateAndChanged(t *testing.T) {
	e, rec := newTestEngine(t, nil)
	mustLoad(t, e, "r.lua", `policy "r" { every = "10s", act = function(node)
	  log("rate=%s changed=%s", tostring(rate("interfaces.eth0.rx_bytes_total")), tostring(changed(node.seq)))
	end }`)
	doc := func(ts float64, rx, seq int) []byte {
		b, _ := json.Marshal(map[string]any{"ts": ts, "seq": seq, "interfaces": []any{map[string]any{"name": "eth0", "rx_bytes_total": rx}}})
		return b
	}
	for i, want := range []string{"rate=nil changed=false", "rate=100 changed=false", "rate=nil changed=true", "rate=50 changed=false"} {
		rx := []int{1000, 2000, 500, 1000}[i]
		seq := []int{1, 1, 2, 2}[i]
		rec.mu.Lock()
		rec.doc = doc(float64(10*i), rx, seq)
		rec.mu.Unlock()
		d, _ := find(e.Tick(bg, t0.Add(time.Duration(10*i)*time.Second)), "r")
		if got := strings.Join(d.Logs, ""); got != want {
			t.Errorf("step %d: %q, want %q (%+v)", i, got, want, d)
		}
	}
}

func TestLoadProblemsNameFileAndLine(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	for _, tc := range []struct{ src, want string }{
		{`policy "x" { evry = "1s", act = function() end }`, `p.lua:1: policy "x": unknown field evry (did you mean every?)`},
		{"\n\npolicy \"x\" { every = 30, act = function() end }", `p.lua:3: policy "x": every: durations are strings`},
		{`policy "x" { every = "1s", on = "link.down", act = function() end }`, "needs exactly one of every"},
		{`policy "x" { on = "link.wobble", act = function() end }`, `on: unknown event "link.wobble"`},
		{`policy "x" { every = "1s" }`, "act is missing"},
		{`policy "x" { every = "5q", act = function() end }`, `unknown unit "q"`},
		{`local x = 1`, "p.lua:1: declares no policy"},
		{`policy "x" { every = "1s", act = function() end } policy "x" { every = "1s", act = function() end }`, "declared twice"},
	} {
		err := e.Load("p.lua", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.src, err, tc.want)
		}
	}
	mustLoad(t, e, "one.lua", `policy "dup" { every = "1s", act = function() end }`)
	if err := e.Load("two.lua", []byte(`policy "dup" { every = "1s", act = function() end }`)); err == nil || !strings.Contains(err.Error(), "already declared in one.lua:1") {
		t.Errorf("duplicate across files: %v", err)
	}
}

// TestEveryAgentEventLoads: a policy may wait for each event the agent
// sends (netcfg's link.flapping included).
func TestEveryAgentEventLoads(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	for _, ev := range []string{"link.up", "link.down", "link.flapping", "sliver.state", "sliver.admit", "peer.up", "peer.down"} {
		if err := e.Load("p.lua", []byte(`policy "x" { on = "`+ev+`", act = function() end }`)); err != nil {
			t.Errorf("on = %q: %v", ev, err)
		}
	}
}

func TestRunSchedulesAndWatches(t *testing.T) {
	dir := t.TempDir()
	sink := &recorder{}
	e, _ := newTestEngine(t, func(c *Config) { c.Dir = dir; c.Sink = sink })
	os.WriteFile(filepath.Join(dir, "tick.lua"), []byte(`policy "tick" { every = "1s", act = function() log("a") end }`), 0o644)
	ctx, cancel := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	eventually(t, func() bool { return countFired(sink, "tick") >= 2 })
	os.WriteFile(filepath.Join(dir, "late.lua"), []byte(`policy "late" { every = "1s", act = function() log("b") end }`), 0o644)
	eventually(t, func() bool { return countFired(sink, "late") >= 1 })
}

func countFired(r *recorder, policy string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, d := range r.decisions {
		if d.Policy == policy && d.Fired {
			n++
		}
	}
	return n
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Before the first sample (an agent that just started) periodic policies
// wait for the document instead of failing on an empty one, and run as
// soon as it is there.
func TestTickWaitsForTheFirstDocument(t *testing.T) {
	e, rec := newTestEngine(t, nil)
	doc := rec.doc
	rec.mu.Lock()
	rec.doc = nil
	rec.mu.Unlock()
	mustLoad(t, e, "load.lua", `policy "load" { every = "30s", act = function(node) alert("info", "load %.1f", node.system.load[1]) end }`)
	if ds := e.Tick(context.Background(), t0); len(ds) != 0 {
		t.Fatalf("without a document: decisions %+v, want none", ds)
	}
	if st := e.Policies(); len(st) != 1 || st[0].Failures != 0 || !st[0].Next.Equal(t0.Add(time.Second)) {
		t.Fatalf("without a document: status %+v, want no failure and a retry in 1s", st)
	}
	rec.mu.Lock()
	rec.doc = doc
	rec.mu.Unlock()
	ds := e.Tick(context.Background(), t0.Add(time.Second))
	if d, ok := find(ds, "load"); !ok || !d.Fired || d.Error != "" {
		t.Fatalf("with the document: decisions %+v, want load fired", ds)
	}
}
