package policy

import (
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// The sandbox: each policy file gets an LState of its own with only the
// base, table, string and math libraries, a read-only os subset, the
// engine's API, and capped versions of the builtins that can allocate
// without bound. This is the first line of defence; the worker process
// and its budgets (worker*.go, watchdog.go) are the one that holds.

// Lua-side sizes: a policy needs neither deep recursion nor a large stack.
const (
	luaCallStack    = 200     // Lua call frames ("stack overflow" beyond)
	luaRegistry     = 1024    // initial data stack slots
	luaRegistryMax  = 1 << 16 // data stack can grow to this many slots
	luaRegistryStep = 256
)

// forbidden names the globals a policy may reach for but does not get; a
// read of one is an error that says so, rather than a confusing nil.
var forbidden = map[string]string{
	"io":             "io is not available in policies",
	"debug":          "debug is not available in policies",
	"package":        "package is not available in policies",
	"require":        "require is not available in policies: a policy file stands alone",
	"module":         "module is not available in policies",
	"load":           "load is not available in policies",
	"loadstring":     "loadstring is not available in policies",
	"loadfile":       "loadfile is not available in policies",
	"dofile":         "dofile is not available in policies",
	"getfenv":        "getfenv is not available in policies",
	"setfenv":        "setfenv is not available in policies",
	"collectgarbage": "collectgarbage is not available in policies",
	"newproxy":       "newproxy is not available in policies",
	"coroutine":      "coroutine is not available in policies",
	"channel":        "channel is not available in policies",
	"_printregs":     "_printregs is not available in policies",
}

// newSandbox returns a fresh LState holding only what policies may use.
// print is left out: the file state installs it as log.
func newSandbox(lim *limits, clock func() (now, start time.Time)) *lua.LState {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       luaCallStack,
		RegistrySize:        luaRegistry,
		RegistryMaxSize:     luaRegistryMax,
		RegistryGrowStep:    luaRegistryStep,
		MinimizeStackMemory: true,
	})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	G := L.G.Global
	for name := range forbidden {
		G.RawSetString(name, lua.LNil)
	}
	G.RawSetString("print", lua.LNil)
	G.RawSetString("_GOPHER_LUA_VERSION", lua.LNil)

	// A read of a forbidden global fails with a message naming it; other
	// missing globals read as nil, as in any Lua.
	gmt := L.CreateTable(0, 2)
	gmt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		if name, ok := L.Get(2).(lua.LString); ok {
			if msg, bad := forbidden[string(name)]; bad {
				L.RaiseError("%s", msg)
			}
		}
		return 0
	}))
	gmt.RawSetString("__metatable", lua.LString("locked"))
	G.Metatable = gmt

	installOS(L, clock)
	installLimits(L, lim)

	// Strings get a metatable of their own that a policy cannot reach:
	// getmetatable("") returns "locked", so string methods stay the capped
	// ones whatever the policy does to its globals.
	strmod := G.RawGetString("string").(*lua.LTable)
	strmod.RawSetString("dump", lua.LNil)
	strmod.RawSetString("__index", lua.LNil)
	smt := L.CreateTable(0, 2)
	smt.RawSetString("__index", strmod)
	smt.RawSetString("__metatable", lua.LString("locked"))
	L.SetMetatable(lua.LString(""), smt)
	return L
}

// installOS adds os.time, os.clock and os.date. Time is the evaluation's
// time (faked by `policy eval --now` and by tests), so a policy sees one
// consistent clock.
func installOS(L *lua.LState, clock func() (now, start time.Time)) {
	// A small throwaway state (the default registry of 5120 slots, for
	// each policy file, was 0.9 MB of garbage at the worker's start).
	base := lua.NewState(lua.Options{SkipOpenLibs: true, RegistrySize: 128, CallStackSize: 8})
	defer base.Close()
	base.Push(base.NewFunction(lua.OpenOs))
	base.Push(lua.LString(lua.OsLibName))
	base.Call(1, 1)
	osmod := base.Get(-1).(*lua.LTable)
	date := osmod.RawGetString("date").(*lua.LFunction).GFunction
	timefn := osmod.RawGetString("time").(*lua.LFunction).GFunction

	t := L.CreateTable(0, 3)
	t.RawSetString("clock", L.NewFunction(func(L *lua.LState) int {
		_, start := clock()
		L.Push(lua.LNumber(time.Since(start).Seconds()))
		return 1
	}))
	t.RawSetString("time", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() == 0 || L.Get(1) == lua.LNil {
			now, _ := clock()
			L.Push(lua.LNumber(now.Unix()))
			return 1
		}
		return timefn(L)
	}))
	t.RawSetString("date", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() < 2 {
			if L.GetTop() == 0 {
				L.Push(lua.LString("%c"))
			}
			now, _ := clock()
			L.Push(lua.LNumber(now.Unix()))
		}
		return date(L)
	}))
	mt := L.CreateTable(0, 2)
	allowed := []string{"os.clock", "os.date", "os.time"}
	sort.Strings(allowed)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("os.%s is not available in policies (only %s)", lua.LVAsString(L.Get(2)), strings.Join(allowed, ", "))
		return 0
	}))
	mt.RawSetString("__metatable", lua.LString("locked"))
	t.Metatable = mt
	L.G.Global.RawSetString("os", t)
}
