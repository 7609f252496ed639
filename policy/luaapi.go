package policy

import (
	"fmt"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// installAPI adds the engine's functions to a file's globals: policy, the
// actions (sliver.*, iface.*, uci.*, alert, refuse), log and print, and the
// helpers peers, rate, changed and duration.
func (fs *fileState) installAPI() {
	L := fs.L
	G := L.G.Global
	G.RawSetString("policy", L.NewFunction(fs.declare))
	reg := func(t *lua.LTable, name string, fn lua.LGFunction) { t.RawSetString(name, L.NewFunction(fn)) }

	sliver := L.CreateTable(0, 3)
	reg(sliver, "start", func(L *lua.LState) int { return fs.simple(L, OpSliverStart) })
	reg(sliver, "stop", func(L *lua.LState) int { return fs.simple(L, OpSliverStop) })
	reg(sliver, "limit", fs.sliverLimit)
	G.RawSetString("sliver", sliver)

	iface := L.CreateTable(0, 2)
	reg(iface, "up", func(L *lua.LState) int { return fs.simple(L, OpIfaceUp) })
	reg(iface, "down", func(L *lua.LState) int { return fs.simple(L, OpIfaceDown) })
	G.RawSetString("iface", iface)

	uci := L.CreateTable(0, 3)
	reg(uci, "get", fs.uciGet)
	reg(uci, "set", fs.uciSet)
	reg(uci, "commit", fs.uciCommit)
	G.RawSetString("uci", uci)

	reg(G, "alert", fs.alert)
	reg(G, "refuse", fs.refuse)
	reg(G, "log", fs.log)
	reg(G, "print", fs.log)
	reg(G, "peers", fs.peers)
	reg(G, "rate", fs.rate)
	reg(G, "changed", fs.changed)
	reg(G, "duration", func(L *lua.LState) int {
		d, err := parseDuration(L.CheckString(1))
		if err != nil {
			L.ArgError(1, err.Error())
		}
		L.Push(lua.LNumber(d.Seconds()))
		return 1
	})

	// next and pairs fill a lazy node table before walking it.
	next := G.RawGetString("next").(*lua.LFunction).GFunction
	wrappedNext := L.NewFunction(func(L *lua.LState) int {
		if t, ok := L.Get(1).(*lua.LTable); ok {
			if err := fs.dc.fill(t); err != nil {
				L.RaiseError("%v", err)
			}
		}
		return next(L)
	})
	G.RawSetString("next", wrappedNext)
	G.RawSetString("pairs", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		if err := fs.dc.fill(t); err != nil {
			L.RaiseError("%v", err)
		}
		L.Push(wrappedNext)
		L.Push(t)
		L.Push(lua.LNil)
		return 3
	}))
}

// action records an action asked for by act.
func (fs *fileState) action(L *lua.LState, a Action) {
	ev := fs.ev
	if ev == nil || !ev.inAct {
		L.RaiseError("%s: actions may only be called from act, not from when or the file's top level", a.Op)
	}
	if len(ev.actions) >= maxActions {
		L.RaiseError("%s: more than %d actions in one evaluation", a.Op, maxActions)
	}
	ev.actions = append(ev.actions, a)
}

// name checks a sliver or interface name argument.
func name(L *lua.LState, op string, n int) string {
	s, ok := L.Get(n).(lua.LString)
	if !ok || !validActionName(string(s)) {
		L.RaiseError("%s: argument %d must be a name (1 to %d printable characters, no spaces or slashes), got %s", op, n, maxNameLen, L.Get(n).Type())
	}
	return string(s)
}

// simple records sliver.start/stop and iface.up/down.
func (fs *fileState) simple(L *lua.LState, op string) int {
	a := Action{Op: op}
	if strings.HasPrefix(op, "sliver.") {
		a.Sliver = name(L, op, 1)
	} else {
		a.Iface = name(L, op, 1)
	}
	fs.action(L, a)
	return 0
}

// sliverLimit is sliver.limit(name, {cpu = 0.5, memory_bytes = ..., pids = ...}).
func (fs *fileState) sliverLimit(L *lua.LState) int {
	a := Action{Op: OpSliverLimit, Sliver: name(L, OpSliverLimit, 1)}
	t, ok := L.Get(2).(*lua.LTable)
	if !ok {
		L.RaiseError("sliver.limit: argument 2 must be a table such as {cpu = 0.5, memory_bytes = 67108864, pids = 64}")
	}
	num := func(k string, v lua.LValue, whole bool, hi float64) float64 {
		n, ok := v.(lua.LNumber)
		// NaN fails the range; beyond hi, int64 conversion is undefined.
		if !ok || !(n > 0 && float64(n) <= hi) || (whole && float64(n) != math.Trunc(float64(n))) {
			L.RaiseError("sliver.limit: %s must be a positive number up to %g, got %s", k, hi, truncate(lua.LVAsString(v), 32))
		}
		return float64(n)
	}
	t.ForEach(func(k, v lua.LValue) {
		switch lua.LVAsString(k) {
		case "cpu":
			a.CPU = num("cpu", v, false, maxLimitCPU)
		case "memory_bytes":
			a.MemoryBytes = int64(num("memory_bytes", v, true, maxLimitMemory))
		case "pids":
			a.Pids = int64(num("pids", v, true, maxLimitPids))
		default:
			L.RaiseError("sliver.limit: unknown limit %s (limits: cpu, memory_bytes, pids)", truncate(lua.LVAsString(k), 32))
		}
	})
	if a.CPU == 0 && a.MemoryBytes == 0 && a.Pids == 0 {
		L.RaiseError("sliver.limit: no limit given (limits: cpu, memory_bytes, pids)")
	}
	fs.action(L, a)
	return 0
}

// uciArgs checks a UCI package against the allow-list and returns the
// package, section and option arguments.
func (fs *fileState) uciArgs(L *lua.LState, op string, n int) (pkg, section, option string) {
	pkg = L.CheckString(1)
	if !fs.uciAllow[pkg] {
		L.RaiseError("%s: package %q is not allow-listed for policies (nodekeeper.policy.uci_allow)", op, truncate(pkg, 64))
	}
	if n > 1 {
		section, option = L.CheckString(2), L.CheckString(3)
		if len(section) > maxNameLen || len(option) > maxNameLen {
			L.RaiseError("%s: section and option names are at most %d bytes", op, maxNameLen)
		}
	}
	return
}

func (fs *fileState) uciGet(L *lua.LState) int {
	pkg, section, option := fs.uciArgs(L, "uci.get", 3)
	if fs.ev == nil {
		L.RaiseError("uci.get: may only be called from when or act")
	}
	v, ok, err := fs.host.uciGet(pkg, section, option)
	if err != nil {
		L.RaiseError("uci.get: %v", err)
	}
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(v))
	return 1
}

func (fs *fileState) uciSet(L *lua.LState) int {
	pkg, section, option := fs.uciArgs(L, OpUCISet, 3)
	v := L.Get(4)
	switch v.(type) {
	case lua.LString, lua.LNumber, lua.LBool:
	default:
		L.RaiseError("uci.set: value must be a string, number or boolean, got %s", v.Type())
	}
	s := lua.LVAsString(v)
	if len(s) > 1024 {
		L.RaiseError("uci.set: value longer than 1024 bytes")
	}
	fs.action(L, Action{Op: OpUCISet, Package: pkg, Section: section, Option: option, Value: s})
	return 0
}

func (fs *fileState) uciCommit(L *lua.LState) int {
	pkg, _, _ := fs.uciArgs(L, OpUCICommit, 1)
	fs.action(L, Action{Op: OpUCICommit, Package: pkg})
	return 0
}

// format formats arguments from n on with string.format (capped).
func (fs *fileState) format(L *lua.LState, n int) string {
	if L.GetTop() < n {
		return ""
	}
	if L.GetTop() == n {
		return lua.LVAsString(L.Get(n))
	}
	f := L.G.Global.RawGetString("string").(*lua.LTable).RawGetString("format")
	args := make([]lua.LValue, 0, L.GetTop()-n+1)
	for i := n; i <= L.GetTop(); i++ {
		args = append(args, L.Get(i))
	}
	L.Push(f)
	for _, a := range args {
		L.Push(a)
	}
	L.Call(len(args), 1)
	s := lua.LVAsString(L.Get(-1))
	L.Pop(1)
	return s
}

var alertLevels = map[string]bool{"info": true, "warning": true, "critical": true}

// alert is alert(level, format, ...).
func (fs *fileState) alert(L *lua.LState) int {
	level := L.CheckString(1)
	if !alertLevels[level] {
		L.RaiseError("alert: level must be \"info\", \"warning\" or \"critical\", got %q", truncate(level, 32))
	}
	fs.action(L, Action{Op: OpAlert, Level: level, Message: truncate(fs.format(L, 2), 1024)})
	return 0
}

// refuse is refuse(reason) in an admission policy.
func (fs *fileState) refuse(L *lua.LState) int {
	if fs.ev != nil && fs.ev.p.meta.On != EventAdmit {
		L.RaiseError("refuse: only admission policies (on = %q) can refuse", EventAdmit)
	}
	fs.action(L, Action{Op: OpRefuse, Message: truncate(fs.format(L, 1), 1024)})
	return 0
}

// log is log(format, ...): a line in the decision log (and the agent's log).
func (fs *fileState) log(L *lua.LState) int {
	msg := truncate(fs.format(L, 1), maxLogLine)
	ev := fs.ev
	if ev == nil {
		return 0
	}
	if len(ev.logs) >= maxLogLines {
		ev.dropped++
		return 0
	}
	ev.logs = append(ev.logs, msg)
	return 0
}

// peers returns the last document of each peer node, by node id.
func (fs *fileState) peers(L *lua.LState) int {
	ev := fs.ev
	if ev == nil {
		L.RaiseError("peers: may only be called from when or act")
	}
	if ev.peers == nil {
		docs, err := fs.host.peers()
		if err != nil {
			L.RaiseError("peers: %v", err)
		}
		t := L.CreateTable(0, len(docs))
		for id, raw := range docs {
			v, err := fs.dc.root(newJdoc(raw), "peers")
			if err != nil {
				continue // a malformed peer document is left out
			}
			t.RawSetString(id, v)
		}
		ev.peers = t
	}
	L.Push(ev.peers)
	return 1
}

// memTable returns the named sub-table of the policy's helper memory.
func memTable(L *lua.LState, mem *lua.LTable, name string) *lua.LTable {
	if t, ok := mem.RawGetString(name).(*lua.LTable); ok {
		return t
	}
	t := L.NewTable()
	mem.RawSetString(name, t)
	return t
}

// rate is rate("interfaces.eth0.rx_bytes_total"): the counter's increase
// per second since the previous evaluation of this policy, nil the first
// time and when the counter went backwards (a reset).
func (fs *fileState) rate(L *lua.LState) int {
	path := L.CheckString(1)
	ev := fs.ev
	if ev == nil || ev.doc == nil {
		L.RaiseError("rate: may only be called from when or act")
	}
	v, err := ev.doc.lookup(path)
	if err != nil {
		L.RaiseError("rate: %v", err)
	}
	n, ok := v.(lua.LNumber)
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	fs.dc.inputs = append(fs.dc.inputs, path)
	fs.dc.vals = append(fs.dc.vals, inputValue([]byte(n.String())))
	ts := float64(ev.now.UnixNano()) / 1e9
	if t, err := ev.doc.lookup("ts"); err == nil {
		if t, ok := t.(lua.LNumber); ok {
			ts = float64(t)
		}
	}
	rates := memTable(L, ev.p.mem, "rate")
	prev, _ := rates.RawGetString(path).(*lua.LTable)
	cur := L.CreateTable(2, 0)
	cur.RawSetInt(1, n)
	cur.RawSetInt(2, lua.LNumber(ts))
	rates.RawSetString(path, cur)
	if prev == nil {
		L.Push(lua.LNil)
		return 1
	}
	pv, _ := prev.RawGetInt(1).(lua.LNumber)
	pt, _ := prev.RawGetInt(2).(lua.LNumber)
	if float64(pt) >= ts || pv > n {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LNumber((float64(n) - float64(pv)) / (ts - float64(pt))))
	return 1
}

// changed is changed(x [, key]): true when x differs from what this call
// (this line, or the key) saw in the previous evaluation; false the first
// time.
func (fs *fileState) changed(L *lua.LState) int {
	ev := fs.ev
	if ev == nil {
		L.RaiseError("changed: may only be called from when or act")
	}
	v := L.Get(1)
	switch v.(type) {
	case *lua.LNilType, lua.LBool, lua.LNumber, lua.LString:
	default:
		L.RaiseError("changed: argument must be a number, string, boolean or nil, got %s", v.Type())
	}
	key := L.OptString(2, "")
	if key == "" {
		site := where(L)
		if ev.calls == nil {
			ev.calls = map[string]int{}
		}
		ev.calls[site]++
		key = fmt.Sprintf("%s#%d", site, ev.calls[site])
	}
	seen := memTable(L, ev.p.mem, "changed")
	prev, had := seen.RawGetString(key).(*lua.LTable)
	box := L.CreateTable(1, 0)
	box.RawSetInt(1, v)
	seen.RawSetString(key, box)
	L.Push(lua.LBool(had && prev.RawGetInt(1) != v))
	return 1
}
