package policy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestToolsCheck(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"good.lua":   `policy "g" { every = "1s", act = function() end }`,
		"typo.lua":   "\npolicy \"t\" { evry = \"1s\", act = function() end }",
		"loop.lua":   `while true do end`,
		"syntax.lua": "policy \"s\" {\n  every = \"1s\",\n  act = function() if end,\n}",
	})
	tools := Tools{Worker: testWorker(t)}
	var out bytes.Buffer
	files := []string{"good.lua", "typo.lua", "loop.lua", "syntax.lua", "missing.lua"}
	for i := range files {
		files[i] = filepath.Join(dir, files[i])
	}
	n := tools.Check(files, &out)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for _, l := range lines {
		if !regexp.MustCompile(`^` + regexp.QuoteMeta(dir) + `/\w+\.lua:\d+: `).MatchString(l) {
			t.Errorf("line not file:line: message: %q", l)
		}
	}
	for _, want := range []string{"typo.lua:2: policy \"t\": unknown field evry", "loop.lua:1: CPU budget", "syntax.lua:3: ", "missing.lua:1: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if n != len(lines) || strings.Contains(out.String(), "good.lua") {
		t.Errorf("%d problems for %d lines:\n%s", n, len(lines), out.String())
	}
}

func TestToolsEval(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.lua": `
policy "hot" { every = "30s", hold = "10m", when = function(n) return n.system.load[1] > 0.1 end,
  act = function(n) sliver.limit("s3", { cpu = 0.5 }); log("at %d", os.time()) end }
policy "cold" { every = "30s", when = function(n) return n.system.load[1] > 9 end, act = function() sliver.stop("s3") end }`,
		"bad.lua":   `policy "b" { every = "1s", act = function() local s = "x" while true do s = s .. s end end }`,
		"ev.lua":    `policy "e" { on = "link.down", act = function(n, ev) log(ev.name) end }`,
		"node.json": string(sampleDoc(t)),
	})
	tools := Tools{Worker: testWorker(t)}
	var out bytes.Buffer
	doc := sampleDoc(t)
	failed := tools.Eval(doc, t0, []string{filepath.Join(dir, "a.lua"), filepath.Join(dir, "bad.lua"), filepath.Join(dir, "ev.lua")}, &out)
	if failed != 1 {
		t.Errorf("failed = %d, want 1:\n%s", failed, out.String())
	}
	var lines []EvalLine
	dec := json.NewDecoder(&out)
	for dec.More() {
		var l EvalLine
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 4 || lines[3].Policy == nil {
		t.Fatalf("%d lines: %+v", len(lines), lines)
	}
	hot, cold, bad, ev := lines[0], lines[1], lines[2], lines[3]
	if *hot.Policy != "hot" || !hot.Fired || len(hot.Actions) != 1 || hot.Actions[0].Op != OpSliverLimit || hot.Logs[0] != "at 1767225600" {
		t.Errorf("hot (hold ignored, time faked): %+v", hot)
	}
	if *cold.Policy != "cold" || cold.Fired || cold.Error != nil {
		t.Errorf("cold: %+v", cold)
	}
	if bad.Error == nil || !strings.Contains(*bad.Error, "bad.lua:1: ") || !strings.Contains(*bad.Error, "budget") {
		t.Errorf("bad: %+v", bad)
	}
	if *ev.Policy != "e" || !ev.Fired || ev.Logs[0] != "link.down" {
		t.Errorf("event policy: %+v", ev)
	}
}

func TestToolsTest(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"p.lua": `policy "p" { every = "1m", hold = "2m",
  when = function(n) return n.system.load[1] > 2 end,
  act = function(n) sliver.stop(n.slivers[1].name) end }`,
		"p_test.lua": `
local busy = sample { system = { load = { 3 } } }
test("passes", function()
  expect(eval("p", busy).fired).to_be(false)
  eval("p", busy)
  expect(eval("p", busy)).to_have_action("sliver.stop", { sliver = "s3" })
end)
test("fails on purpose", function()
  expect(eval("p", busy)).to_have_action("sliver.start")
end)
test("loops", function() while true do end end)`,
		"orphan_test.lua": `test("x", function() end)`,
	})
	tools := Tools{Worker: testWorker(t)}
	var out bytes.Buffer
	passed, failed := tools.Test([]string{dir}, &out)
	got := out.String()
	if passed != 1 || failed != 3 {
		t.Errorf("passed %d failed %d:\n%s", passed, failed, got)
	}
	for _, want := range []string{
		"p_test.lua:9: expected an action sliver.start, got {}",
		"p_test.lua:11: CPU limit of 1s per test exceeded",
		"orphan_test.lua:1: no policy file orphan.lua",
		"\n1 passed, 3 failed\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

// TestExamplePolicies runs the example policies' own tests.
func TestExamplePolicies(t *testing.T) {
	var out bytes.Buffer
	passed, failed := Tools{Worker: testWorker(t)}.Test([]string{"../openwrt-package/files/policies"}, &out)
	if failed != 0 || passed < 10 {
		t.Errorf("examples: %d passed, %d failed:\n%s", passed, failed, out.String())
	}
	var check bytes.Buffer
	files, _ := filepath.Glob("../openwrt-package/files/policies/*.lua")
	var policies []string
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.lua") {
			policies = append(policies, f)
		}
	}
	if len(policies) < 5 || (Tools{Worker: testWorker(t)}).Check(policies, &check) != 0 {
		t.Errorf("check of %d examples:\n%s", len(policies), check.String())
	}
}
