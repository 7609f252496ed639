package policy

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Policies see the node document as Lua tables, but building all of it for
// every evaluation would cost more than the evaluation. So the document
// stays raw JSON: an object becomes a table whose fields are decoded on
// first access (and cached in the table), an array becomes a sequence when
// it is reached. The index of each object is built once per document and
// shared by every evaluation of a round. Reads are recorded as the
// evaluation's inputs for the decision log.

// A jdoc is one JSON document and the objects indexed in it so far.
type jdoc struct {
	raw  []byte
	objs map[int]*jobj // by offset of the '{' or '['
}

// A jobj indexes one JSON object (keys) or array (no keys).
type jobj struct {
	keys  []string
	vals  []span
	paths []string // input path of each key, made on first read
	path  string
}

type span struct{ s, e int32 }

var errMalformed = errors.New("malformed JSON")

func newJdoc(raw []byte) *jdoc { return &jdoc{raw: raw, objs: make(map[int]*jobj, 8)} }

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the offset just past the string whose opening quote
// is at i.
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, errMalformed
		}
		q := j + k
		bs := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			bs++
		}
		if bs%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
	return 0, errMalformed
}

// skipValue returns the offset just past the value starting at i.
func skipValue(b []byte, i int) (int, error) {
	i = skipWS(b, i)
	if i >= len(b) {
		return 0, errMalformed
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			case '"':
				j, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				i = j - 1
			}
		}
		return 0, errMalformed
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
			j++
		}
		if j == i {
			return 0, errMalformed
		}
		return j, nil
	}
}

// index returns the index of the object or array at off, building it on
// first use.
func (d *jdoc) index(off int, path string) (*jobj, error) {
	if o, ok := d.objs[off]; ok {
		return o, nil
	}
	b := d.raw
	o := &jobj{path: path, keys: make([]string, 0, 16), vals: make([]span, 0, 16)}
	isObj := b[off] == '{'
	i := skipWS(b, off+1)
	if i < len(b) && (b[i] == '}' || b[i] == ']') {
		d.objs[off] = o
		return o, nil
	}
	for i < len(b) {
		if isObj {
			k, j, err := parseKey(b, i)
			if err != nil {
				return nil, err
			}
			j = skipWS(b, j)
			if j >= len(b) || b[j] != ':' {
				return nil, errMalformed
			}
			o.keys = append(o.keys, k)
			i = skipWS(b, j+1)
		}
		j, err := skipValue(b, i)
		if err != nil {
			return nil, err
		}
		o.vals = append(o.vals, span{int32(i), int32(j)})
		j = skipWS(b, j)
		if j >= len(b) {
			return nil, errMalformed
		}
		if b[j] == '}' || b[j] == ']' {
			break
		}
		if b[j] != ',' {
			return nil, errMalformed
		}
		i = skipWS(b, j+1)
	}
	if isObj {
		o.paths = make([]string, len(o.keys))
	}
	d.objs[off] = o
	return o, nil
}

// keys interns object keys: documents repeat the same few dozen.
var keys = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

// parseKey is parseString for object keys, interned.
func parseKey(b []byte, i int) (string, int, error) {
	if i < len(b) && b[i] == '"' {
		if k := bytes.IndexByte(b[i+1:], '"'); k >= 0 && bytes.IndexByte(b[i+1:i+1+k], '\\') < 0 {
			raw := b[i+1 : i+1+k]
			keys.Lock()
			s, ok := keys.m[string(raw)]
			if !ok && len(keys.m) < 4096 {
				s = string(raw)
				keys.m[s] = s
			} else if !ok {
				s = string(raw)
			}
			keys.Unlock()
			return s, i + 2 + k, nil
		}
	}
	return parseString(b, i)
}

// parseString decodes the JSON string at i and returns it and the offset
// after it.
func parseString(b []byte, i int) (string, int, error) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, errMalformed
	}
	start := i + 1
	for j := start; j < len(b); j++ {
		switch b[j] {
		case '"':
			return string(b[start:j]), j + 1, nil
		case '\\':
			return parseEscaped(b, start)
		}
	}
	return "", 0, errMalformed
}

func parseEscaped(b []byte, i int) (string, int, error) {
	out := make([]byte, 0, 32)
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return string(out), i + 1, nil
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			break
		}
		i++
		switch b[i] {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'u':
			if i+4 >= len(b) {
				return "", 0, errMalformed
			}
			r, err := strconv.ParseUint(string(b[i+1:i+5]), 16, 32)
			if err != nil {
				return "", 0, errMalformed
			}
			i += 4
			ru := rune(r)
			if utf16.IsSurrogate(ru) && i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
				if r2, err := strconv.ParseUint(string(b[i+3:i+7]), 16, 32); err == nil {
					ru = utf16.DecodeRune(ru, rune(r2))
					i += 6
				}
			}
			out = utf8.AppendRune(out, ru)
		default:
			out = append(out, b[i])
		}
		i++
	}
	return "", 0, errMalformed
}

// scalar decodes a string, number, boolean or null.
func scalar(b []byte) (lua.LValue, error) {
	switch b[0] {
	case '"':
		s, _, err := parseString(b, 0)
		return lua.LString(s), err
	case 't':
		return lua.LTrue, nil
	case 'f':
		return lua.LFalse, nil
	case 'n':
		return lua.LNil, nil
	}
	f, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	if err != nil {
		return lua.LNil, errMalformed
	}
	return lua.LNumber(f), nil
}

// A proxy is a lazily filled table standing for a JSON object.
type proxy struct {
	doc *jdoc
	obj *jobj
}

// decoder turns JSON values into Lua values for one evaluation and
// remembers which tables are still lazy.
type decoder struct {
	L       *lua.LState
	mt      *lua.LTable // metatable of proxies
	proxies map[*lua.LTable]proxy
	inputs  []string
	// vals are the values read, as JSON, beside inputs ("" for an object,
	// an array of objects or a value longer than maxInputValue).
	vals []string
}

// maxInputValue bounds a value the decision log records.
const maxInputValue = 64

// inputValue is the JSON of a value read, for the decision log: scalars
// and short arrays of scalars.
func inputValue(b []byte) string {
	if len(b) > maxInputValue || b[0] == '{' || (b[0] == '[' && bytes.IndexByte(b, '{') >= 0) {
		return ""
	}
	return string(b)
}

// value decodes the value at s. Objects become proxies, arrays sequences.
func (dc *decoder) value(d *jdoc, s span, path string) (lua.LValue, error) {
	b := d.raw[s.s:s.e]
	switch b[0] {
	case '{':
		o, err := d.index(int(s.s), path)
		if err != nil {
			return lua.LNil, err
		}
		if o.path != path {
			o.path = path
			clear(o.paths)
		}
		t := dc.L.CreateTable(0, len(o.keys))
		t.Metatable = dc.mt
		dc.proxies[t] = proxy{d, o}
		return t, nil
	case '[':
		o, err := d.index(int(s.s), path)
		if err != nil {
			return lua.LNil, err
		}
		t := dc.L.CreateTable(len(o.vals), 0)
		for i, v := range o.vals {
			lv, err := dc.value(d, v, path+"[]")
			if err != nil {
				return lua.LNil, err
			}
			t.RawSetInt(i+1, lv)
		}
		return t, nil
	}
	return scalar(b)
}

// root returns a proxy for the whole document, whose reads are recorded
// under the given path prefix ("" for node).
func (dc *decoder) root(d *jdoc, prefix string) (lua.LValue, error) {
	i := skipWS(d.raw, 0)
	if i >= len(d.raw) || d.raw[i] != '{' {
		return lua.LNil, fmt.Errorf("document is not a JSON object")
	}
	return dc.value(d, span{int32(i), int32(len(d.raw))}, prefix)
}

// field decodes one field of a proxy, caches it in the table and records
// the read.
func (dc *decoder) field(t *lua.LTable, p proxy, key string) (lua.LValue, error) {
	for i, k := range p.obj.keys {
		if k != key {
			continue
		}
		if p.obj.paths[i] == "" {
			if p.obj.path == "" {
				p.obj.paths[i] = k
			} else {
				p.obj.paths[i] = p.obj.path + "." + k
			}
		}
		path := p.obj.paths[i]
		v, err := dc.value(p.doc, p.obj.vals[i], path)
		if err != nil {
			return lua.LNil, err
		}
		dc.inputs = append(dc.inputs, path)
		vs := p.obj.vals[i]
		dc.vals = append(dc.vals, inputValue(p.doc.raw[vs.s:vs.e]))
		t.RawSetString(k, v)
		return v, nil
	}
	return lua.LNil, nil
}

// fill decodes every field of a lazy table, so that next, pairs and the
// state codec see all of it.
func (dc *decoder) fill(t *lua.LTable) error {
	p, ok := dc.proxies[t]
	if !ok {
		return nil
	}
	delete(dc.proxies, t)
	for _, k := range p.obj.keys {
		if t.RawGetString(k) != lua.LNil {
			continue
		}
		if _, err := dc.field(t, p, k); err != nil {
			return err
		}
	}
	return nil
}

// reset forgets the lazy tables of the last evaluation (a table kept in
// `state` is filled before it is kept).
func (dc *decoder) reset() {
	clear(dc.proxies)
	dc.inputs = dc.inputs[:0]
	dc.vals = dc.vals[:0]
}

// newDecoder installs the proxy metatable in L.
func newDecoder(L *lua.LState) *decoder {
	dc := &decoder{L: L, proxies: make(map[*lua.LTable]proxy, 16)}
	dc.mt = L.CreateTable(0, 3)
	dc.mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		key, ok := L.Get(2).(lua.LString)
		p, lazy := dc.proxies[t]
		if !ok || !lazy {
			return 0
		}
		v, err := dc.field(t, p, string(key))
		if err != nil {
			L.RaiseError("reading %s: %v", key, err)
		}
		L.Push(v)
		return 1
	}))
	dc.mt.RawSetString("__metatable", lua.LString("locked"))
	return dc
}

// lookup resolves a counter path such as "interfaces.eth0.rx_bytes_total"
// in the document: a name segment picks an object's field, or the element
// of an array whose name (or ifname, or mount) is that name; a number
// picks an array element (from 1).
func (d *jdoc) lookup(path string) (lua.LValue, error) {
	i := skipWS(d.raw, 0)
	end, err := skipValue(d.raw, i)
	if err != nil {
		return lua.LNil, err
	}
	cur := span{int32(i), int32(end)}
	for rest := path; rest != ""; {
		seg := rest
		if k := indexByte(rest, '.'); k >= 0 {
			seg, rest = rest[:k], rest[k+1:]
		} else {
			rest = ""
		}
		c := d.raw[cur.s]
		if c != '{' && c != '[' {
			return lua.LNil, nil
		}
		o, err := d.index(int(cur.s), "")
		if err != nil {
			return lua.LNil, err
		}
		found := false
		if c == '{' {
			for j, k := range o.keys {
				if k == seg {
					cur, found = o.vals[j], true
					break
				}
			}
		} else if n, err := strconv.Atoi(seg); err == nil {
			if n >= 1 && n <= len(o.vals) {
				cur, found = o.vals[n-1], true
			}
		} else {
			for _, el := range o.vals {
				if d.raw[el.s] == '{' && d.nameIs(el, seg) {
					cur, found = el, true
					break
				}
			}
		}
		if !found {
			return lua.LNil, nil
		}
	}
	if c := d.raw[cur.s]; c == '{' || c == '[' {
		return lua.LNil, nil
	}
	return scalar(d.raw[cur.s:cur.e])
}

func (d *jdoc) nameIs(el span, name string) bool {
	o, err := d.index(int(el.s), "")
	if err != nil {
		return false
	}
	for j, k := range o.keys {
		if k == "name" || k == "ifname" || k == "mount" {
			if v, err := scalar(d.raw[o.vals[j].s:o.vals[j].e]); err == nil && v == lua.LString(name) {
				return true
			}
		}
	}
	return false
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
