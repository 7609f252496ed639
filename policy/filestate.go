package policy

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// A fileState is one loaded policy file inside the worker: its own LState
// (so files cannot see or break each other), the policies it declared and
// the evaluation running in it, if any.
type fileState struct {
	name     string
	L        *lua.LState
	lim      *limits
	uciAllow map[string]bool
	host     host
	dc       *decoder

	policies []*luaPolicy
	loading  bool
	problems []string
	ev       *evaluation
	evBuf    evaluation
}

// A luaPolicy is a declared policy with its functions and persistent state.
type luaPolicy struct {
	meta      policyMeta
	when, act *lua.LFunction
	state     *lua.LTable // the policy's `state`
	mem       *lua.LTable // memory of rate() and changed()
	lastState []byte      // encoding of state and mem after the last evaluation
	pos       string      // file:line of the declaration
}

// host answers what a policy asks of the world during an evaluation: the
// engine over the pipe in the worker, canned values in tests.
type host interface {
	peers() (map[string][]byte, error)
	uciGet(pkg, section, option string) (string, bool, error)
}

// An evaluation is the context of the policy function running now.
type evaluation struct {
	p       *luaPolicy
	now     time.Time
	start   time.Time
	doc     *jdoc
	inAct   bool
	actions []Action
	logs    []string
	dropped int
	peers   lua.LValue
	calls   map[string]int // changed() call sites seen in this evaluation
}

// Caps on what one evaluation may produce.
const (
	maxActions  = 64
	maxLogLines = 32
	maxLogLine  = 512
	maxErrorLen = 512
	maxNameLen  = 64
)

// policyFields are the fields of a policy declaration.
var policyFields = []string{"every", "on", "when", "act", "hold", "cooldown", "priority", "dry_run", "description"}

// loadFile loads one policy file in a fresh sandbox and runs its chunk
// (under ctx). states carries the encoded state of policies from an
// earlier load, by policy name. On problems the state is closed and the
// problems ("file:line: message") are returned.
func loadFile(ctx context.Context, name string, src []byte, lim *limits, uciAllow map[string]bool, h host, states map[string][]byte) (*fileState, []string) {
	fs := &fileState{name: name, lim: lim, uciAllow: uciAllow, host: h, loading: true}
	fs.L = newSandbox(lim, fs.clock)
	fs.dc = newDecoder(fs.L)
	fs.installAPI()
	fs.L.SetContext(ctx)
	fn, err := fs.L.Load(bytes.NewReader(src), name)
	if err != nil {
		fs.L.Close()
		return nil, []string{syntaxError(name, err)}
	}
	fs.ev = &evaluation{now: time.Now(), start: time.Now()}
	fs.L.Push(fn)
	if err := fs.L.PCall(0, 0, nil); err != nil {
		fs.problems = append(fs.problems, luaError(name, name+":1", err))
	}
	fs.ev = nil
	fs.loading = false
	if len(fs.problems) == 0 && len(fs.policies) == 0 {
		fs.problems = append(fs.problems, name+":1: declares no policy (use: policy \"name\" { every = \"30s\", when = ..., act = ... })")
	}
	if len(fs.problems) > 0 {
		fs.L.Close()
		return nil, fs.problems
	}
	for _, p := range fs.policies {
		if b, ok := states[p.meta.Name]; ok {
			d := dec{b: b}
			if st, ok := decodeState(fs.L, &d, 0).(*lua.LTable); ok {
				p.state = st
			}
			if mem, ok := decodeState(fs.L, &d, 0).(*lua.LTable); ok {
				p.mem = mem
			}
			p.lastState = b
		}
	}
	return fs, nil
}

func (fs *fileState) close() { fs.L.Close() }

func (fs *fileState) clock() (now time.Time, start time.Time) {
	if fs.ev == nil {
		return time.Now(), time.Now()
	}
	return fs.ev.now, fs.ev.start
}

// parseSyntaxError finds "line:N(column:M) near 'TOKEN': MESSAGE" in a
// gopher-lua parse error, as the regular expression
// `line:(\d+)\(column:\d+\) near '(.*)':\s*(.*)` would (written out: regexp
// costs the binary 0.26 MB, docs/packaging.md).
func parseSyntaxError(msg string) (line, near, text string, ok bool) {
	digits := func(s string) int {
		n := 0
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		return n
	}
	for off := 0; ; off++ {
		i := strings.Index(msg[off:], "line:")
		if i < 0 {
			return "", "", "", false
		}
		off += i
		rest := msg[off+len("line:"):]
		n := digits(rest)
		if n == 0 {
			continue
		}
		line, rest = rest[:n], rest[n:]
		var found bool
		if rest, found = strings.CutPrefix(rest, "(column:"); !found {
			continue
		}
		if n = digits(rest); n == 0 {
			continue
		}
		if rest, found = strings.CutPrefix(rest[n:], ") near '"); !found {
			continue
		}
		eol := strings.IndexByte(rest, '\n')
		if eol < 0 {
			eol = len(rest)
		}
		j := strings.LastIndex(rest[:eol], "':")
		if j < 0 {
			continue
		}
		near, rest = rest[:j], strings.TrimLeft(rest[j+2:], " \t\n\f\r")
		if k := strings.IndexByte(rest, '\n'); k >= 0 {
			rest = rest[:k]
		}
		return line, near, rest, true
	}
}

// syntaxError turns gopher-lua's parse error into file:line: message.
func syntaxError(name string, err error) string {
	msg := err.Error()
	if ae, ok := err.(*lua.ApiError); ok {
		msg = lua.LVAsString(ae.Object)
	}
	if line, tok, text, ok := parseSyntaxError(msg); ok {
		near := ""
		if tok != "" && tok != "EOF" {
			near = " near '" + tok + "'"
		} else if tok == "EOF" {
			near = " at end of file"
		}
		return fmt.Sprintf("%s:%s: %s%s", name, line, strings.TrimSpace(text), near)
	}
	return name + ":1: " + firstLine(msg)
}

// luaError renders a Lua error as file:line: message, without a Lua or Go
// stack trace, and not longer than maxErrorLen.
func luaError(name, pos string, err error) string {
	msg := err.Error()
	if ae, ok := err.(*lua.ApiError); ok {
		switch o := ae.Object.(type) {
		case lua.LString:
			msg = string(o)
		case *lua.LNilType:
			msg = "error called with nil"
		default:
			if s, ok := ae.Object.(lua.LNumber); ok {
				msg = s.String()
			} else {
				msg = "error object is a " + ae.Object.Type().String() + " value"
			}
		}
	}
	msg = firstLine(msg)
	if !strings.HasPrefix(msg, name+":") {
		msg = pos + ": " + msg
	}
	return truncate(msg, maxErrorLen)
}

func firstLine(s string) string {
	if i := strings.Index(s, "\nstack traceback:"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "\ngoroutine "); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "... (truncated)"
}

// where returns "file:line" of the Lua code calling the running Go function.
func where(L *lua.LState) string {
	return strings.TrimSuffix(L.Where(1), ":")
}

// declare is the Lua function `policy "name" { ... }`.
func (fs *fileState) declare(L *lua.LState) int {
	pos := where(L)
	name, ok := L.Get(1).(lua.LString)
	if !ok || !validPolicyName(string(name)) {
		L.RaiseError("policy needs a name: policy \"cpu-guard\" { ... } (a string of 1 to %d printable bytes)", maxNameLen)
	}
	if !fs.loading {
		L.RaiseError("policy %q: policies are declared when the file loads, not from a policy function", string(name))
	}
	L.Push(L.NewFunction(func(L *lua.LState) int {
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			L.RaiseError("policy %q: expected a table of fields: policy %q { every = \"30s\", act = function(node) ... end }", string(name), string(name))
		}
		if p := fs.parseDecl(pos, string(name), t); p != nil {
			fs.policies = append(fs.policies, p)
		}
		return 0
	}))
	return 1
}

// parseDecl checks a declaration; each problem is recorded with the
// declaration's file:line and the others are still checked.
func (fs *fileState) parseDecl(pos, name string, t *lua.LTable) *luaPolicy {
	bad := func(format string, args ...any) {
		fs.problems = append(fs.problems, fmt.Sprintf("%s: policy %q: ", pos, name)+fmt.Sprintf(format, args...))
	}
	line, _ := strconv.Atoi(pos[strings.LastIndexByte(pos, ':')+1:])
	p := &luaPolicy{meta: policyMeta{Name: name, Line: line}, state: fs.L.NewTable(), mem: fs.L.NewTable()}
	for _, q := range fs.policies {
		if q.meta.Name == name {
			bad("declared twice in this file (first at line %d)", q.meta.Line)
		}
	}
	n0 := len(fs.problems)
	t.ForEach(func(k, v lua.LValue) {
		key, ok := k.(lua.LString)
		if !ok || !slices.Contains(policyFields, string(key)) {
			bad("unknown field %s%s (fields: %s)", lua.LVAsString(k), suggest(lua.LVAsString(k)), strings.Join(policyFields, ", "))
		}
	})
	dur := func(field string, min time.Duration) int64 {
		v := t.RawGetString(field)
		if v == lua.LNil {
			return 0
		}
		s, ok := v.(lua.LString)
		if !ok {
			bad("%s: durations are strings such as \"30s\" or \"5m\", got %s %s", field, v.Type(), lua.LVAsString(v))
			return 0
		}
		d, err := parseDuration(string(s))
		if err != nil {
			bad("%s: %v", field, err)
			return 0
		}
		if d < min {
			bad("%s: %s is shorter than the minimum of %s", field, s, min)
		}
		return int64(d)
	}
	p.meta.Every = dur("every", time.Second)
	p.meta.Hold = dur("hold", 0)
	p.meta.Cooldown = dur("cooldown", 0)
	switch on := t.RawGetString("on").(type) {
	case *lua.LNilType:
	case lua.LString:
		if _, ok := events[string(on)]; !ok {
			bad("on: unknown event %q (events: %s)", string(on), eventNames())
		}
		p.meta.On = string(on)
	default:
		bad("on: expected an event name such as \"link.down\", got %s", on.Type())
	}
	hasEvery := t.RawGetString("every") != lua.LNil
	if hasEvery == (p.meta.On != "") && (hasEvery || t.RawGetString("on") == lua.LNil) {
		bad("needs exactly one of every = \"30s\" (periodic) or on = \"link.down\" (event)")
	}
	fn := func(field string, required bool) *lua.LFunction {
		switch f := t.RawGetString(field).(type) {
		case *lua.LFunction:
			return f
		case *lua.LNilType:
			if required {
				bad("%s is missing: %s = function(node) ... end", field, field)
			}
		default:
			bad("%s: expected a function, got %s", field, f.Type())
		}
		return nil
	}
	p.when = fn("when", false)
	p.act = fn("act", true)
	switch pr := t.RawGetString("priority").(type) {
	case *lua.LNilType:
	case lua.LNumber:
		if float64(pr) != float64(int64(pr)) {
			bad("priority: expected a whole number, got %v", pr)
		}
		p.meta.Priority = int64(pr)
	default:
		bad("priority: expected a number, got %s", pr.Type())
	}
	switch dr := t.RawGetString("dry_run").(type) {
	case *lua.LNilType:
	case lua.LBool:
		p.meta.DryRun = bool(dr)
	default:
		bad("dry_run: expected true or false, got %s", dr.Type())
	}
	switch d := t.RawGetString("description").(type) {
	case *lua.LNilType:
	case lua.LString:
		p.meta.Description = truncate(string(d), 256)
	default:
		bad("description: expected a string, got %s", d.Type())
	}
	if len(fs.problems) > n0 {
		return nil
	}
	return p
}

// suggest returns ` (did you mean "x"?)` for a near miss of a field name.
func suggest(field string) string {
	best, bestD := "", 3
	for _, f := range policyFields {
		if d := editDistance(field, f); d < bestD {
			best, bestD = f, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	if len(a) > 32 || len(b) > 32 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// evalInput is what one evaluation gets.
type evalInput struct {
	now    time.Time
	doc    *jdoc
	event  *jdoc // nil for periodic policies
	mayAct bool  // act may run if the condition holds (hold and cooldown allow it)
}

// evaluate runs one policy: when, then act if the condition holds and the
// engine allows acting. The state is encoded when it changed.
func (fs *fileState) evaluate(ctx context.Context, p *luaPolicy, in evalInput) (r evalResult) {
	L := fs.L
	if L.Context() != ctx {
		L.SetContext(ctx)
	}
	ev := &fs.evBuf
	*ev = evaluation{p: p, now: in.now, start: time.Now(), doc: in.doc, actions: ev.actions[:0], calls: ev.calls}
	clear(ev.calls)
	fs.ev = ev
	defer func() {
		fs.ev = nil
		fs.dc.reset()
	}()
	if p.pos == "" {
		p.pos = fmt.Sprintf("%s:%d", fs.name, p.meta.Line)
	}
	pos := p.pos
	node, err := fs.dc.root(in.doc, "")
	if err != nil {
		r.Err, r.Kind = fmt.Sprintf("%s:%d: node document: %v", fs.name, p.meta.Line, err), errRuntime
		return r
	}
	var event lua.LValue = lua.LNil
	if in.event != nil {
		if event, err = fs.dc.root(in.event, "event"); err != nil {
			r.Err, r.Kind = fmt.Sprintf("%s:%d: event: %v", fs.name, p.meta.Line, err), errRuntime
			return r
		}
	}
	G := L.G.Global
	G.RawSetString("state", p.state)
	r.When = true
	if p.when != nil {
		L.Push(p.when)
		L.Push(node)
		L.Push(event)
		if err := L.PCall(2, 1, nil); err != nil {
			r.Err, r.Kind = luaError(fs.name, pos, err), errRuntime
		} else {
			r.When = lua.LVAsBool(L.Get(-1))
			L.Pop(1)
		}
	}
	if r.Err == "" && r.When && in.mayAct {
		ev.inAct = true
		L.Push(p.act)
		L.Push(node)
		L.Push(event)
		if err := L.PCall(2, 0, nil); err != nil {
			r.Err, r.Kind = luaError(fs.name, pos, err), errRuntime
		} else {
			r.Fired = true
			r.Actions = append(ev.actions[:0:0], ev.actions...)
		}
		ev.inAct = false
	}
	if r.Err != "" {
		r.When = false
	}
	if len(ev.logs) > 0 {
		r.Logs = ev.logs
		if ev.dropped > 0 {
			r.Logs = append(r.Logs, fmt.Sprintf("(%d more log lines dropped)", ev.dropped))
		}
	}
	if st, ok := G.RawGetString("state").(*lua.LTable); ok {
		p.state = st
	}
	G.RawSetString("state", lua.LNil)
	if len(fs.dc.inputs) > 0 {
		in := slices.Clone(fs.dc.inputs)
		slices.Sort(in)
		// Keep the leaves, once each: "system" is implied by
		// "system.load" (no slices.Compact: one instantiation less in
		// the router binary).
		out := in[:0]
		for i, p := range in {
			if i+1 < len(in) && (in[i+1] == p || len(in[i+1]) > len(p) && strings.HasPrefix(in[i+1], p) && (in[i+1][len(p)] == '.' || in[i+1][len(p)] == '[')) {
				continue
			}
			out = append(out, p)
		}
		r.Inputs = out
		r.Values = leafValues(out, fs.dc.inputs, fs.dc.vals)
	}
	fs.saveState(p, &r)
	return r
}

// saveState encodes the policy's state and memory and reports them when
// they changed since the last evaluation.
func (fs *fileState) saveState(p *luaPolicy, r *evalResult) {
	if p.lastState == nil && p.state.Len() == 0 && p.mem.Len() == 0 {
		if k, _ := p.state.Next(lua.LNil); k == lua.LNil {
			if k, _ := p.mem.Next(lua.LNil); k == lua.LNil {
				return
			}
		}
	}
	se := stateEncoder{dc: fs.dc}
	err := se.value(p.state, "state", 0)
	if err == nil {
		err = se.value(p.mem, "state", 0)
	}
	if err == nil && len(se.b) > maxStateBytes {
		err = fmt.Errorf("state is larger than %d bytes", maxStateBytes)
	}
	if err != nil {
		if r.Err == "" {
			r.Err, r.Kind = fmt.Sprintf("%s:%d: policy %q: %v", fs.name, p.meta.Line, p.meta.Name, err), errRuntime
			r.Fired, r.Actions = false, nil
		}
		return
	}
	if !bytes.Equal(se.b, p.lastState) {
		p.lastState = se.b
		r.StateSet, r.State = true, se.b
	}
}

// leafValues returns the values of the leaves read, beside them: the JSON
// of each ("" when not recorded), and for a path through an array
// ("slivers[].cpu_percent") a JSON array of the values of the first 16
// elements read. nil when no value was recorded.
func leafValues(leaves, paths, vals []string) []string {
	byPath := map[string][]string{}
	for i, p := range paths {
		if i < len(vals) && vals[i] != "" {
			byPath[p] = append(byPath[p], vals[i])
		}
	}
	if len(byPath) == 0 {
		return nil
	}
	out := make([]string, len(leaves))
	for i, p := range leaves {
		vs := byPath[p]
		switch {
		case len(vs) == 0:
		case strings.Contains(p, "[]"):
			out[i] = "[" + strings.Join(vs[:min(len(vs), 16)], ",") + "]"
		default:
			out[i] = vs[0]
		}
	}
	return out
}
