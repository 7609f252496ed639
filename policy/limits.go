package policy

import (
	"strings"
	"time"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/pm"
)

// Budgets for one load or evaluation.
type Budget struct {
	// CPU is the CPU time one load or evaluation may use (default 50ms).
	CPU time.Duration
	// Memory is what one load or evaluation may allocate on top of what
	// the loaded policies hold (default 16 MiB).
	Memory int64
}

// Defaults for Budget's zero fields.
const (
	DefaultCPU    = 50 * time.Millisecond
	DefaultMemory = 16 << 20
)

func (b Budget) withDefaults() Budget {
	if b.CPU <= 0 {
		b.CPU = DefaultCPU
	}
	if b.Memory <= 0 {
		b.Memory = DefaultMemory
	}
	return b
}

// limits are the in-Lua caps derived from a budget.
type limits struct {
	budget Budget
	// maxString bounds any one string a builtin builds (a quarter of the
	// memory budget: building it also copies its parts).
	maxString int
}

func newLimits(b Budget) *limits {
	b = b.withDefaults()
	return &limits{budget: b, maxString: int(max(b.Memory/4, 64<<10))}
}

// installLimits replaces the builtins that can build unbounded strings in
// one call (string.rep, string.format, string.gsub, string.gmatch,
// table.concat) with versions that check the size first and check the
// deadline in their loops.
func installLimits(L *lua.LState, lim *limits) {
	str := L.G.Global.RawGetString("string").(*lua.LTable)
	format := str.RawGetString("format").(*lua.LFunction).GFunction
	tbl := L.G.Global.RawGetString("table").(*lua.LTable)
	concat := tbl.RawGetString("concat").(*lua.LFunction).GFunction

	str.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
		s := L.CheckString(1)
		n := L.CheckInt(2)
		if n <= 0 || s == "" {
			L.Push(lua.LString(""))
			return 1
		}
		if n > lim.maxString/len(s) {
			L.RaiseError("string.rep: result of %d bytes exceeds the limit of %d bytes", int64(n)*int64(len(s)), lim.maxString)
		}
		L.Push(lua.LString(strings.Repeat(s, n)))
		return 1
	}))
	str.RawSetString("format", L.NewFunction(func(L *lua.LState) int {
		f := L.CheckString(1)
		size := len(f)
		for i := 2; i <= L.GetTop(); i++ {
			size += len(lua.LVAsString(L.Get(i))) + 100
		}
		if err := checkFormat(f); err != "" {
			L.RaiseError("string.format: %s", err)
		}
		if size > lim.maxString {
			L.RaiseError("string.format: result of up to %d bytes exceeds the limit of %d bytes", size, lim.maxString)
		}
		return format(L)
	}))
	str.RawSetString("gsub", L.NewFunction(func(L *lua.LState) int { return gsub(L, lim) }))
	str.RawSetString("gmatch", L.NewFunction(gmatch))
	tbl.RawSetString("concat", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		sep := len(L.OptString(2, ""))
		size := 0
		for i, n := 1, t.Len(); i <= n; i++ {
			size += len(lua.LVAsString(t.RawGetInt(i))) + sep
			if size > lim.maxString {
				L.RaiseError("table.concat: result exceeds the limit of %d bytes", lim.maxString)
			}
		}
		return concat(L)
	}))
}

// checkFormat rejects what PUC Lua 5.1 rejects: a width or precision of
// more than two digits (Go would pad to a million characters).
func checkFormat(f string) string {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			continue
		}
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		digits := 0
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			i, digits = i+1, digits+1
		}
		if i < len(f) && f[i] == '.' {
			i++
			p := 0
			for i < len(f) && f[i] >= '0' && f[i] <= '9' {
				i, p = i+1, p+1
			}
			digits = max(digits, p)
		}
		if digits > 2 {
			return "invalid format (width or precision too long)"
		}
	}
	return ""
}

func readOnlyBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// capture returns capture k of a match (k = 0 with no captures is the
// whole match), as Lua gsub and gmatch see it.
func capture(md *pm.MatchData, s string, k int) lua.LValue {
	if k == 0 && md.CaptureLength() <= 2 {
		return lua.LString(s[md.Capture(0):md.Capture(1)])
	}
	if k == 0 {
		k = 1
	}
	i := 2 * k
	if i >= md.CaptureLength() {
		return lua.LNil
	}
	if md.IsPosCapture(i) {
		return lua.LNumber(md.Capture(i))
	}
	return lua.LString(s[md.Capture(i):md.Capture(i+1)])
}

// gsub is string.gsub with its result capped and the deadline checked: the
// builtin collects every match before replacing and copies the whole
// string once per replacement.
func gsub(L *lua.LState, lim *limits) int {
	s := L.CheckString(1)
	pat := L.CheckString(2)
	L.CheckTypes(3, lua.LTString, lua.LTTable, lua.LTFunction)
	repl := L.Get(3)
	maxN := L.OptInt(4, -1)
	anchored := strings.HasPrefix(pat, "^")
	src := readOnlyBytes(s)
	var out strings.Builder
	n, pos := 0, 0
	for maxN < 0 || n < maxN {
		if n&255 == 255 && L.Context() != nil && L.Context().Err() != nil {
			L.RaiseError("%v", L.Context().Err())
		}
		mds, err := pm.Find(pat, src, pos, 1)
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		if len(mds) == 0 {
			break
		}
		md := mds[0]
		start, end := md.Capture(0), md.Capture(1)
		out.WriteString(s[pos:start])
		var rep string
		keep := false
		switch r := repl.(type) {
		case lua.LString:
			rep = expandRepl(L, string(r), md, s)
		case *lua.LTable:
			v := L.GetTable(r, capture(md, s, 0))
			if lua.LVIsFalse(v) {
				keep = true
			} else {
				rep = lua.LVAsString(v)
			}
		case *lua.LFunction:
			L.Push(r)
			nargs := 1
			if md.CaptureLength() > 2 {
				nargs = md.CaptureLength()/2 - 1
				for k := 1; k <= nargs; k++ {
					L.Push(capture(md, s, k))
				}
			} else {
				L.Push(capture(md, s, 0))
			}
			L.Call(nargs, 1)
			v := L.Get(-1)
			L.Pop(1)
			if lua.LVIsFalse(v) {
				keep = true
			} else {
				rep = lua.LVAsString(v)
			}
		}
		if keep {
			rep = s[start:end]
		}
		if out.Len()+len(rep) > lim.maxString {
			L.RaiseError("string.gsub: result exceeds the limit of %d bytes", lim.maxString)
		}
		// Grow by doubling (append grows large buffers by a quarter, which
		// copies a result near the limit many times over).
		if out.Cap()-out.Len() < len(rep) {
			out.Grow(max(len(rep), out.Cap()))
		}
		out.WriteString(rep)
		n++
		if end > start {
			pos = end
		} else {
			if start < len(s) {
				out.WriteByte(s[start])
			}
			pos = start + 1
		}
		if anchored || pos > len(s) {
			break
		}
	}
	if pos < len(s) {
		out.WriteString(s[pos:])
	}
	L.Push(lua.LString(out.String()))
	L.Push(lua.LNumber(n))
	return 2
}

// expandRepl expands %0-%9 and %% in a gsub replacement string.
func expandRepl(L *lua.LState, r string, md *pm.MatchData, s string) string {
	if strings.IndexByte(r, '%') < 0 {
		return r
	}
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c != '%' || i+1 == len(r) {
			b.WriteByte(c)
			continue
		}
		i++
		c = r[i]
		if c >= '0' && c <= '9' {
			b.WriteString(lua.LVAsString(capture(md, s, int(c-'0'))))
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// gmatch is string.gmatch finding one match per call instead of all of
// them up front.
func gmatch(L *lua.LState) int {
	s := L.CheckString(1)
	pat := L.CheckString(2)
	pos := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if pos > len(s) {
			return 0
		}
		mds, err := pm.Find(pat, readOnlyBytes(s), pos, 1)
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		if len(mds) == 0 {
			pos = len(s) + 1
			return 0
		}
		md := mds[0]
		start, end := md.Capture(0), md.Capture(1)
		if end > start {
			pos = end
		} else {
			pos = start + 1
		}
		if md.CaptureLength() <= 2 {
			L.Push(capture(md, s, 0))
			return 1
		}
		n := md.CaptureLength()/2 - 1
		for k := 1; k <= n; k++ {
			L.Push(capture(md, s, k))
		}
		return n
	}))
	return 1
}
