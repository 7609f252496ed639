package policy

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// The test harness runs an admin's *_test.lua file in the worker: the file
// declares cases with test(name, fn); each case gets a fresh load of the
// policy file beside it, feeds node documents to its policies with eval()
// and asserts with expect(). Time is fake: it starts at testEpoch and moves
// by each policy's period, or as eval's options say.

// sampleJSON is the node document of docs/telemetry.md: sample() returns it.
//
//go:embed sample.json
var sampleJSON []byte

var testEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// testCaseBudget is the CPU one test case may use, its evaluations included.
const testCaseBudget = time.Second

// A caseResult is one test case's outcome.
type caseResult struct {
	name    string
	failure string // "file:line: message", empty when passed
}

const testPrelude = `
local function show(v, depth)
  depth = depth or 0
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) ~= "table" then return tostring(v) end
  if depth > 3 then return "{...}" end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do
    if #parts >= 12 then parts[#parts + 1] = "..." break end
    if type(k) == "number" and k >= 1 and k <= #v then
      parts[#parts + 1] = show(v[k], depth + 1)
    else
      parts[#parts + 1] = tostring(k) .. " = " .. show(v[k], depth + 1)
    end
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function equal(a, b, depth)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" or (depth or 0) > 16 then return false end
  for k, v in pairs(a) do if not equal(v, b[k], (depth or 0) + 1) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function has(action, fields)
  for k, v in pairs(fields or {}) do
    if not equal(action[k], v) then return false end
  end
  return true
end

function expect(actual)
  local m = {}
  function m.to_be(want)
    if actual ~= want then error("expected " .. show(want) .. ", got " .. show(actual), 3) end
  end
  function m.to_equal(want)
    if not equal(actual, want) then error("expected " .. show(want) .. ", got " .. show(actual), 3) end
  end
  function m.to_be_truthy()
    if not actual then error("expected a true value, got " .. show(actual), 3) end
  end
  function m.to_be_falsy()
    if actual then error("expected false or nil, got " .. show(actual), 3) end
  end
  function m.to_contain(x)
    if type(actual) == "string" and type(x) == "string" and string.find(actual, x, 1, true) then return end
    if type(actual) == "table" then
      for _, v in ipairs(actual) do if equal(v, x) then return end end
    end
    error("expected " .. show(actual) .. " to contain " .. show(x), 3)
  end
  function m.to_have_action(op, fields)
    if type(actual) ~= "table" or actual.actions == nil then error("to_have_action: expected the result of eval()", 3) end
    if actual.error then error("expected " .. op .. ", but the policy failed: " .. actual.error, 3) end
    for _, a in ipairs(actual.actions) do
      if a.op == op and has(a, fields) then return end
    end
    local f = fields and (" " .. show(fields)) or ""
    error("expected an action " .. op .. f .. ", got " .. show(actual.actions), 3)
  end
  function m.to_have_no_actions()
    if type(actual) ~= "table" or actual.actions == nil then error("to_have_no_actions: expected the result of eval()", 3) end
    if actual.error then error("expected no action, but the policy failed: " .. actual.error, 3) end
    if #actual.actions > 0 then error("expected no action, got " .. show(actual.actions), 3) end
  end
  return m
end
`

// testHost answers peers() and uci.get from eval's options.
type testHost struct {
	peerDocs map[string][]byte
	uci      map[string]string
}

func (h *testHost) peers() (map[string][]byte, error) { return h.peerDocs, nil }
func (h *testHost) uciGet(pkg, section, option string) (string, bool, error) {
	v, ok := h.uci[pkg+"."+section+"."+option]
	return v, ok, nil
}

// runTestFile runs one test file against its policy file.
func (w *worker) runTestFile(policyName string, policySrc []byte, testName string, testSrc []byte) ([]caseResult, string) {
	h := &testHost{}
	ctx := w.wd.beginWith(testCaseBudget)
	tf, problems := loadTestFile(ctx, testName, testSrc, w.lim)
	if cause := w.wd.end(); cause != causeNone && tf != nil {
		tf.L.Close()
		msg, _ := w.budgetError(cause, "", testName+":1")
		return nil, msg
	}
	if len(problems) > 0 {
		return nil, problems[0]
	}
	defer tf.L.Close()
	var results []caseResult
	for _, c := range tf.cases {
		ctx := w.wd.beginWith(testCaseBudget)
		fs, problems := loadFile(ctx, policyName, policySrc, w.lim, w.allow, h, nil)
		if len(problems) > 0 {
			w.wd.end()
			return nil, problems[0]
		}
		tc := &testCase{w: w, fs: fs, host: h, gates: map[string]*rtPolicy{}, ctx: ctx}
		tf.cur = tc
		tf.L.SetContext(ctx)
		tf.L.Push(c.fn)
		err := tf.L.PCall(0, 0, nil)
		cause := w.wd.end()
		tf.cur = nil
		fs.close()
		r := caseResult{name: c.name}
		switch {
		case cause == causeMemory:
			r.failure = fmt.Sprintf("%s: memory budget of %d MiB exceeded", c.pos, w.lim.budget.Memory>>20)
		case cause != causeNone:
			r.failure = fmt.Sprintf("%s: CPU limit of %s per test exceeded", c.pos, testCaseBudget)
		case err != nil:
			r.failure = luaError(testName, c.pos, err)
		}
		results = append(results, r)
	}
	return results, ""
}

// A testFile is a loaded *_test.lua.
type testFile struct {
	L     *lua.LState
	name  string
	cases []testDecl
	cur   *testCase
}

type testDecl struct {
	name string
	pos  string
	fn   *lua.LFunction
}

// A testCase is the policy file loaded for one case, with fake time.
type testCase struct {
	w     *worker
	fs    *fileState
	host  *testHost
	ctx   context.Context
	gates map[string]*rtPolicy
	now   time.Time
	evals int
}

func loadTestFile(ctx context.Context, name string, src []byte, lim *limits) (*testFile, []string) {
	tf := &testFile{name: name}
	var now time.Time
	tf.L = newSandbox(lim, func() (time.Time, time.Time) {
		if tf.cur != nil {
			now = tf.cur.now
		}
		return now, time.Now()
	})
	L := tf.L
	L.SetContext(ctx)
	G := L.G.Global
	G.RawSetString("test", L.NewFunction(func(L *lua.LState) int {
		n := L.CheckString(1)
		fn := L.CheckFunction(2)
		tf.cases = append(tf.cases, testDecl{name: n, pos: strings.TrimSuffix(L.Where(1), ":"), fn: fn})
		return 0
	}))
	G.RawSetString("eval", L.NewFunction(tf.eval))
	G.RawSetString("sample", L.NewFunction(sample))
	G.RawSetString("duration", L.NewFunction(func(L *lua.LState) int {
		d, err := parseDuration(L.CheckString(1))
		if err != nil {
			L.ArgError(1, err.Error())
		}
		L.Push(lua.LNumber(d.Seconds()))
		return 1
	}))
	G.RawSetString("log", L.NewFunction(func(L *lua.LState) int { return 0 }))
	G.RawSetString("print", G.RawGetString("log"))
	if err := L.DoString(testPrelude); err != nil {
		return nil, []string{name + ":1: test prelude: " + firstLine(err.Error())}
	}
	fn, err := L.Load(bytes.NewReader(src), name)
	if err != nil {
		L.Close()
		return nil, []string{syntaxError(name, err)}
	}
	L.Push(fn)
	if err := L.PCall(0, 0, nil); err != nil {
		L.Close()
		return nil, []string{luaError(name, name+":1", err)}
	}
	if len(tf.cases) == 0 {
		L.Close()
		return nil, []string{name + ":1: declares no test (use: test(\"name\", function() ... end))"}
	}
	return tf, nil
}

// eval is eval(policy_name, doc [, opts]) in a test: it evaluates one
// policy of the file under test, with hold and cooldown, and returns
// {fired=, when=, actions=, logs=, inputs=, error=}. opts: at (time since
// the test began, a duration string), after (time since the last eval),
// event (a table), peers (node id -> document), uci ("pkg.section.option"
// -> value).
func (tf *testFile) eval(L *lua.LState) int {
	tc := tf.cur
	if tc == nil {
		L.RaiseError("eval: may only be called inside test(name, function() ... end)")
	}
	name := L.CheckString(1)
	doc := L.CheckTable(2)
	opts := L.OptTable(3, L.NewTable())
	var p *luaPolicy
	for _, q := range tc.fs.policies {
		if q.meta.Name == name {
			p = q
		}
	}
	if p == nil {
		var names []string
		for _, q := range tc.fs.policies {
			names = append(names, q.meta.Name)
		}
		L.RaiseError("eval: no policy %q in %s (policies: %s)", name, tc.fs.name, strings.Join(names, ", "))
	}
	optDur := func(k string) (time.Duration, bool) {
		switch v := opts.RawGetString(k).(type) {
		case lua.LString:
			d, err := parseDuration(string(v))
			if err != nil {
				L.RaiseError("eval: %s: %v", k, err)
			}
			return d, true
		case lua.LNumber:
			return time.Duration(float64(v) * float64(time.Second)), true
		}
		return 0, false
	}
	step := time.Duration(p.meta.Every)
	if step == 0 {
		step = time.Second
	}
	switch {
	case tc.evals == 0:
		tc.now = testEpoch
	default:
		tc.now = tc.now.Add(step)
	}
	if d, ok := optDur("after"); ok {
		tc.now = tc.now.Add(d - step)
	}
	if d, ok := optDur("at"); ok {
		tc.now = testEpoch.Add(d)
	}
	tc.evals++
	raw, err := luaToJSON(doc, 0)
	if err != nil {
		L.RaiseError("eval: document: %v", err)
	}
	in := evalInput{now: tc.now, doc: newJdoc(raw)}
	if p.meta.On != "" {
		ev := L.NewTable()
		if t, ok := opts.RawGetString("event").(*lua.LTable); ok {
			ev = t
		}
		if ev.RawGetString("name") == lua.LNil {
			ev.RawSetString("name", lua.LString(p.meta.On))
		}
		eraw, err := luaToJSON(ev, 0)
		if err != nil {
			L.RaiseError("eval: event: %v", err)
		}
		in.event = newJdoc(eraw)
	}
	tc.host.peerDocs, tc.host.uci = nil, map[string]string{}
	if t, ok := opts.RawGetString("peers").(*lua.LTable); ok {
		tc.host.peerDocs = map[string][]byte{}
		t.ForEach(func(k, v lua.LValue) {
			if vt, ok := v.(*lua.LTable); ok {
				if b, err := luaToJSON(vt, 0); err == nil {
					tc.host.peerDocs[lua.LVAsString(k)] = b
				}
			}
		})
	}
	if t, ok := opts.RawGetString("uci").(*lua.LTable); ok {
		t.ForEach(func(k, v lua.LValue) { tc.host.uci[lua.LVAsString(k)] = lua.LVAsString(v) })
	}
	g := tc.gates[name]
	if g == nil {
		g = &rtPolicy{meta: p.meta}
		tc.gates[name] = g
	}
	gate := p.meta.On != EventAdmit
	in.mayAct = !gate || g.mayAct(tc.now)
	r := tc.fs.evaluate(tc.ctx, p, in)
	if tc.ctx.Err() != nil {
		L.RaiseError("CPU budget exceeded")
	}
	if r.Err == "" {
		g.observe(tc.now, r.When, r.Fired && len(r.Actions) > 0, gate)
	}
	L.Push(resultTable(L, &r))
	return 1
}

// resultTable is eval's result as a Lua table.
func resultTable(L *lua.LState, r *evalResult) *lua.LTable {
	t := L.CreateTable(0, 6)
	t.RawSetString("fired", lua.LBool(r.Fired))
	t.RawSetString("when", lua.LBool(r.When))
	acts := L.CreateTable(len(r.Actions), 0)
	for _, a := range r.Actions {
		at := L.CreateTable(0, 4)
		set := func(k, v string) {
			if v != "" {
				at.RawSetString(k, lua.LString(v))
			}
		}
		set("op", a.Op)
		set("sliver", a.Sliver)
		set("iface", a.Iface)
		set("package", a.Package)
		set("section", a.Section)
		set("option", a.Option)
		set("value", a.Value)
		set("level", a.Level)
		set("message", a.Message)
		if a.CPU != 0 {
			at.RawSetString("cpu", lua.LNumber(a.CPU))
		}
		if a.MemoryBytes != 0 {
			at.RawSetString("memory_bytes", lua.LNumber(a.MemoryBytes))
		}
		if a.Pids != 0 {
			at.RawSetString("pids", lua.LNumber(a.Pids))
		}
		acts.Append(at)
	}
	t.RawSetString("actions", acts)
	strs := func(ss []string) *lua.LTable {
		lt := L.CreateTable(len(ss), 0)
		for _, s := range ss {
			lt.Append(lua.LString(s))
		}
		return lt
	}
	t.RawSetString("logs", strs(r.Logs))
	t.RawSetString("inputs", strs(r.Inputs))
	if r.Err != "" {
		t.RawSetString("error", lua.LString(r.Err))
	}
	return t
}

// sample is sample([overrides]): the node document of docs/telemetry.md as
// tables, with overrides merged in (tables merge field by field; a
// sequence replaces).
func sample(L *lua.LState) int {
	dc := newDecoder(L)
	v, err := dc.root(newJdoc(sampleJSON), "")
	if err != nil {
		L.RaiseError("sample: %v", err)
	}
	t := v.(*lua.LTable)
	if err := deepFill(dc, t, 0); err != nil {
		L.RaiseError("sample: %v", err)
	}
	if o, ok := L.Get(1).(*lua.LTable); ok {
		merge(t, o, 0)
	}
	L.Push(t)
	return 1
}

func deepFill(dc *decoder, t *lua.LTable, depth int) error {
	if depth > 32 {
		return fmt.Errorf("document nested too deeply")
	}
	if err := dc.fill(t); err != nil {
		return err
	}
	t.Metatable = lua.LNil
	var err error
	t.ForEach(func(_, v lua.LValue) {
		if vt, ok := v.(*lua.LTable); ok && err == nil {
			err = deepFill(dc, vt, depth+1)
		}
	})
	return err
}

func merge(dst, src *lua.LTable, depth int) {
	src.ForEach(func(k, v lua.LValue) {
		vt, ok := v.(*lua.LTable)
		dt, dok := dst.RawGet(k).(*lua.LTable)
		if ok && dok && vt.Len() == 0 && depth < 16 {
			merge(dt, vt, depth+1)
			return
		}
		dst.RawSet(k, v)
	})
}

// luaToJSON encodes a table as JSON: a table with keys 1..n is an array,
// any other an object.
func luaToJSON(v lua.LValue, depth int) ([]byte, error) {
	var b []byte
	var enc func(v lua.LValue, depth int) error
	enc = func(v lua.LValue, depth int) error {
		if depth > 32 {
			return fmt.Errorf("nested more than 32 deep (or refers to itself)")
		}
		if len(b) > 4<<20 {
			return fmt.Errorf("larger than 4 MiB")
		}
		switch v := v.(type) {
		case *lua.LNilType:
			b = append(b, "null"...)
		case lua.LBool:
			b = strconv.AppendBool(b, bool(v))
		case lua.LNumber:
			f := float64(v)
			if math.IsInf(f, 0) || math.IsNaN(f) {
				b = append(b, "null"...)
			} else {
				b = strconv.AppendFloat(b, f, 'g', -1, 64)
			}
		case lua.LString:
			b = strconv.AppendQuote(b, string(v))
		case *lua.LTable:
			n := v.Len()
			count := 0
			v.ForEach(func(_, _ lua.LValue) { count++ })
			if n > 0 && n == count {
				b = append(b, '[')
				for i := 1; i <= n; i++ {
					if i > 1 {
						b = append(b, ',')
					}
					if err := enc(v.RawGetInt(i), depth+1); err != nil {
						return err
					}
				}
				b = append(b, ']')
				return nil
			}
			var keys []string
			vals := map[string]lua.LValue{}
			v.ForEach(func(k, val lua.LValue) {
				ks := lua.LVAsString(k)
				keys = append(keys, ks)
				vals[ks] = val
			})
			sort.Strings(keys)
			b = append(b, '{')
			for i, k := range keys {
				if i > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendQuote(b, k)
				b = append(b, ':')
				if err := enc(vals[k], depth+1); err != nil {
					return err
				}
			}
			b = append(b, '}')
		default:
			return fmt.Errorf("a %s cannot be part of a document", v.Type())
		}
		return nil
	}
	err := enc(v, depth)
	return b, err
}

// test handles msgTest: run a test file and answer with its cases.
func (w *worker) test(d *dec) error {
	seq, pname, psrc, tname, tsrc := d.uint(), d.str(), d.bytes(), d.str(), d.bytes()
	if d.err != nil {
		return d.err
	}
	w.prog.set(progSeq, seq)
	w.prog.set(progItem, 0)
	results, fileErr := w.runTestFile(pname, psrc, tname, tsrc)
	w.e.reset(msgTestDone)
	w.e.str(fileErr)
	w.e.uint(uint64(len(results)))
	for _, r := range results {
		w.e.str(r.name)
		w.e.str(r.failure)
	}
	return w.send()
}
