package policy

import (
	"fmt"
	"math"
	"sort"

	lua "github.com/yuin/gopher-lua"
)

// A policy's `state` (and the memory of rate() and changed()) outlives the
// worker process, so after each evaluation it is encoded and the engine
// keeps the bytes; a restarted worker or a reloaded file gets them back.
// The encoding is a small tagged binary form of nil, booleans, numbers,
// strings and tables of those.

const (
	maxStateBytes = 64 << 10 // encoded size of one policy's state
	maxStateDepth = 16
)

const (
	tagNil byte = iota
	tagFalse
	tagTrue
	tagNumber
	tagString
	tagTable
)

type stateEncoder struct {
	enc
	dc *decoder // fills lazy node tables kept in state
}

// encodeState appends the encoding of v; what is not plain data (a
// function, a cycle, too deep or too big) is an error naming the path.
func (se *stateEncoder) value(v lua.LValue, path string, depth int) error {
	if len(se.b) > maxStateBytes {
		return fmt.Errorf("state is larger than %d bytes", maxStateBytes)
	}
	switch v := v.(type) {
	case *lua.LNilType:
		se.b = append(se.b, tagNil)
	case lua.LBool:
		if v {
			se.b = append(se.b, tagTrue)
		} else {
			se.b = append(se.b, tagFalse)
		}
	case lua.LNumber:
		se.b = append(se.b, tagNumber)
		se.float(float64(v))
	case lua.LString:
		se.b = append(se.b, tagString)
		se.str(string(v))
	case *lua.LTable:
		if depth >= maxStateDepth {
			return fmt.Errorf("%s is nested more than %d deep (or refers to itself)", path, maxStateDepth)
		}
		if se.dc != nil {
			if err := se.dc.fill(v); err != nil {
				return err
			}
		}
		type kv struct{ k, v lua.LValue }
		var kvs []kv
		var ferr error
		v.ForEach(func(k, val lua.LValue) {
			switch k.(type) {
			case lua.LString, lua.LNumber, lua.LBool:
				kvs = append(kvs, kv{k, val})
			default:
				if ferr == nil {
					ferr = fmt.Errorf("%s has a %s key: state keys must be strings, numbers or booleans", path, k.Type())
				}
			}
		})
		if ferr != nil {
			return ferr
		}
		// Sorted, so that an unchanged state encodes to the same bytes.
		sort.Slice(kvs, func(i, j int) bool { return lessKey(kvs[i].k, kvs[j].k) })
		se.b = append(se.b, tagTable)
		se.uint(uint64(len(kvs)))
		for _, e := range kvs {
			if err := se.value(e.k, path, depth+1); err != nil {
				return err
			}
			if err := se.value(e.v, path+"."+lua.LVAsString(e.k), depth+1); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("%s is a %s: state can keep only nil, booleans, numbers, strings and tables", path, v.Type())
	}
	return nil
}

// decodeState rebuilds a value encoded by stateEncoder.
func decodeState(L *lua.LState, d *dec, depth int) lua.LValue {
	if len(d.b) == 0 || depth > maxStateDepth {
		d.fail()
		return lua.LNil
	}
	tag := d.b[0]
	d.b = d.b[1:]
	switch tag {
	case tagNil:
		return lua.LNil
	case tagFalse:
		return lua.LFalse
	case tagTrue:
		return lua.LTrue
	case tagNumber:
		f := d.float()
		if math.IsNaN(f) {
			return lua.LNumber(math.NaN())
		}
		return lua.LNumber(f)
	case tagString:
		return lua.LString(d.str())
	case tagTable:
		n := d.count(2)
		t := L.CreateTable(0, n)
		for i := 0; i < n && d.err == nil; i++ {
			k := decodeState(L, d, depth+1)
			v := decodeState(L, d, depth+1)
			if k != lua.LNil {
				t.RawSet(k, v)
			}
		}
		return t
	}
	d.fail()
	return lua.LNil
}

// lessKey orders state keys: by type, then by value.
func lessKey(a, b lua.LValue) bool {
	if a.Type() != b.Type() {
		return a.Type() < b.Type()
	}
	switch a := a.(type) {
	case lua.LNumber:
		return a < b.(lua.LNumber)
	case lua.LString:
		return a < b.(lua.LString)
	case lua.LBool:
		return !bool(a) && bool(b.(lua.LBool))
	}
	return false
}
