package apkadb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
)

// adb is an ADB block being written: apk-tools' struct adb in write mode.
// Equal values are stored once (adb_w_data): a value whose bytes were
// written before at an offset that suits its alignment is referenced again.
type adb struct {
	buf     []byte
	seen    map[string]uint32
	noCache int
}

// newADB starts a block with its header (compat version 0, version 0, the
// root filled in at the end).
func newADB() *adb {
	d := &adb{seen: map[string]uint32{}}
	d.buf = make([]byte, 8)
	return d
}

// raw appends the parts at the next multiple of align and returns their
// offset.
func (d *adb) raw(parts [][]byte, align int) uint32 {
	for len(d.buf)%align != 0 {
		d.buf = append(d.buf, 0)
	}
	off := uint32(len(d.buf))
	for _, p := range parts {
		d.buf = append(d.buf, p...)
	}
	return off
}

// data is adb_w_data: raw, unless the same bytes are already at an offset
// aligned for them.
func (d *adb) data(parts [][]byte, align int) uint32 {
	if d.noCache > 0 {
		return d.raw(parts, align)
	}
	key := string(bytes.Join(parts, nil))
	if off, ok := d.seen[key]; ok && int(off)&(align-1) == 0 {
		return off
	}
	off := d.raw(parts, align)
	d.seen[key] = off
	return off
}

// blob writes b with its length prefix and returns its value; an empty blob
// is the null value.
func (d *adb) blob(b []byte) uint32 {
	n := len(b)
	var hdr []byte
	var typ uint32
	switch {
	case n == 0:
		return 0
	case n <= 0xff:
		hdr, typ = []byte{byte(n)}, typeBlob8
	case n <= 0xffff:
		hdr, typ = binary.LittleEndian.AppendUint16(nil, uint16(n)), typeBlob16
	default:
		hdr, typ = binary.LittleEndian.AppendUint32(nil, uint32(n)), typeBlob32
	}
	return typ | d.data([][]byte{hdr, b}, len(hdr))
}

// blobRaw writes b without sharing it, so that it can be patched later.
func (d *adb) blobRaw(b []byte) uint32 {
	d.noCache++
	defer func() { d.noCache-- }()
	return d.blob(b)
}

// integer is adb_w_int: small values live in the tag itself.
func (d *adb) integer(v uint64) uint32 {
	switch {
	case v >= 1<<32:
		return typeInt64 | d.data([][]byte{binary.LittleEndian.AppendUint64(nil, v)}, 4)
	case v >= 0x10000000:
		return typeInt32 | d.data([][]byte{binary.LittleEndian.AppendUint32(nil, uint32(v))}, 4)
	}
	return typeInt | uint32(v)
}

// obj is an object or array being built (struct adb_obj in write mode):
// slot 0 is the count, filled in when it is written.
type obj struct {
	d     *adb
	slots []uint32
	num   int
}

func (d *adb) newObj(fields int) *obj {
	return &obj{d: d, slots: make([]uint32, fields), num: 1}
}

// set is adb_wo_val.
func (o *obj) set(i int, v uint32) {
	o.slots[i] = v
	if v != 0 && i >= o.num {
		o.num = i + 1
	}
}

// add is adb_wa_append: null values are not appended.
func (o *obj) add(v uint32) {
	if v == 0 {
		return
	}
	if o.num >= len(o.slots) {
		o.slots = append(o.slots, make([]uint32, len(o.slots))...)
	}
	o.slots[o.num] = v
	o.num++
}

// write is __adb_w_obj: trailing nulls dropped, an empty object is null;
// the object is reset for reuse.
func (o *obj) write(typ uint32) uint32 {
	n := o.num
	for n > 1 && o.slots[n-1] == 0 {
		n--
	}
	var v uint32
	if n > 1 {
		b := make([]byte, 0, 4*n)
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
		for _, s := range o.slots[1:n] {
			b = binary.LittleEndian.AppendUint32(b, s)
		}
		v = typ | o.d.data([][]byte{b}, 4)
	}
	clear(o.slots)
	o.num = 1
	return v
}

// sortBy is adb_wa_sort for object arrays: a stable order of the items by
// less over their decoded objects.
func (o *obj) sortBy(less func(a, b []uint32) bool) {
	items := o.slots[1:o.num]
	sort.SliceStable(items, func(i, j int) bool {
		return less(o.d.slotsOf(items[i]), o.d.slotsOf(items[j]))
	})
}

// uniq is the second half of adb_wa_sort_unique: equal neighbours (the same
// value, which sharing makes of equal objects) are dropped.
func (o *obj) uniq() {
	if o.num < 3 {
		return
	}
	j := 2
	for i := 2; i < o.num; i++ {
		if o.slots[i] == o.slots[j-1] {
			continue
		}
		o.slots[j] = o.slots[i]
		j++
	}
	for i := j; i < o.num; i++ {
		o.slots[i] = 0
	}
	o.num = j
}

// slotsOf reads back an object written before: its slots, slot 0 the count.
func (d *adb) slotsOf(v uint32) []uint32 {
	if v&typeMask != typeObject && v&typeMask != typeArray {
		return nil
	}
	off := int(v & valueMask)
	n := int(binary.LittleEndian.Uint32(d.buf[off:]))
	s := make([]uint32, n)
	for i := range s {
		s[i] = binary.LittleEndian.Uint32(d.buf[off+4*i:])
	}
	return s
}

// blobOf reads back a blob written before.
func (d *adb) blobOf(v uint32) []byte {
	b, _ := readBlob(d.buf, v)
	return b
}

// slot is s[i], or null past the end.
func slot(s []uint32, i int) uint32 {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// setRoot stores the root value in the block header.
func (d *adb) setRoot(v uint32) {
	binary.LittleEndian.PutUint32(d.buf[4:], v)
}

// maxDepth bounds how deep copyVal follows objects: a package info is three
// levels deep (info, dependency array, dependency), and a malformed block
// could point an object at itself.
const maxDepth = 8

// copyVal is adb_w_copy: v of the block src written into d, objects and
// arrays item by item, each shared as usual.
func (d *adb) copyVal(src []byte, v uint32) (uint32, error) {
	return d.copyDepth(src, v, 0)
}

func (d *adb) copyDepth(src []byte, v uint32, depth int) (uint32, error) {
	switch v & typeMask {
	case typeSpecial, typeInt:
		return v, nil
	case typeInt32, typeInt64:
		n := 4
		if v&typeMask == typeInt64 {
			n = 8
		}
		off := int(v & valueMask)
		if off+n > len(src) {
			return 0, errOutside(v)
		}
		return v&typeMask | d.data([][]byte{src[off : off+n]}, 4), nil
	case typeBlob8, typeBlob16, typeBlob32:
		b, err := readBlob(src, v)
		if err != nil {
			return 0, err
		}
		hdr := 1 << ((v & typeMask >> 28) - 8) // 1, 2 or 4 length bytes
		off := int(v & valueMask)
		return v&typeMask | d.data([][]byte{src[off : off+hdr+len(b)]}, hdr), nil
	case typeObject, typeArray:
		if depth >= maxDepth {
			return 0, fmt.Errorf("objects nested deeper than %d", maxDepth)
		}
		s, err := readSlots(src, v)
		if err != nil {
			return 0, err
		}
		cp := make([]byte, 0, 4*len(s))
		cp = binary.LittleEndian.AppendUint32(cp, s[0])
		for _, x := range s[1:] {
			c, err := d.copyDepth(src, x, depth+1)
			if err != nil {
				return 0, err
			}
			cp = binary.LittleEndian.AppendUint32(cp, c)
		}
		return v&typeMask | d.data([][]byte{cp}, 4), nil
	}
	return 0, errType(v)
}
