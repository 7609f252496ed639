package apkadb

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxFileSize bounds what Parse inflates: no package or index of ours comes
// near it.
const MaxFileSize = 256 << 20

// File is an ADB file split into its parts.
type File struct {
	Schema     uint32
	Compressed bool
	// ADB is the ADB block's payload: the 8-byte header, then the values.
	ADB []byte
	// Sigs are the SIG blocks' payloads, in file order.
	Sigs [][]byte
	// Data are the DATA blocks, in file order.
	Data []DataBlock
	// Stream is the uncompressed file: "ADB.", the schema and the blocks.
	Stream []byte
}

// DataBlock is a DATA block of a package: the content of file File (1-based)
// of directory Path (1-based) of the package's paths.
type DataBlock struct {
	Path, File uint32
	Content    []byte
}

func errOutside(v uint32) error { return fmt.Errorf("value %#08x points outside the ADB block", v) }
func errType(v uint32) error    { return fmt.Errorf("value %#08x has an unknown type", v) }

// Parse splits b, a whole .apk or packages.adb, into its blocks. It checks
// the block sequence apk-tools accepts: one ADB block, then SIG blocks, then
// DATA blocks.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, errors.New("shorter than an ADB file header")
	}
	f := &File{}
	switch string(b[:4]) {
	case magicPlain:
		f.Stream = b
	case magicDeflate:
		f.Compressed = true
		r := flate.NewReader(bytes.NewReader(b[4:]))
		s, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
		if err != nil {
			return nil, fmt.Errorf("inflating: %w", err)
		}
		if len(s) > MaxFileSize {
			return nil, fmt.Errorf("more than %d bytes inflated", MaxFileSize)
		}
		f.Stream = s
	default:
		return nil, fmt.Errorf("magic %q is neither %q nor %q", b[:4], magicPlain, magicDeflate)
	}
	s := f.Stream
	if len(s) < 8 || string(s[:4]) != magicPlain {
		return nil, errors.New("no ADB. file header")
	}
	f.Schema = binary.LittleEndian.Uint32(s[4:])
	pos := 8
	state := 0 // 0: want ADB, 1: SIG or DATA, 2: DATA only
	for pos < len(s) {
		if len(s)-pos < 4 {
			return nil, fmt.Errorf("truncated block header at %d", pos)
		}
		w := binary.LittleEndian.Uint32(s[pos:])
		typ, size, hdr := w>>30, uint64(w&0x3fffffff), uint64(4)
		if typ == blockExt {
			if len(s)-pos < 16 {
				return nil, fmt.Errorf("truncated extended block header at %d", pos)
			}
			typ, size, hdr = w&0x3fffffff, binary.LittleEndian.Uint64(s[pos+8:]), 16
		}
		if size < hdr || size > uint64(len(s)-pos) {
			return nil, fmt.Errorf("block at %d: size %d out of range", pos, size)
		}
		payload := s[pos+int(hdr) : pos+int(size)]
		switch {
		case typ == blockADB && state == 0:
			if len(payload) < 8 {
				return nil, errors.New("ADB block shorter than its header")
			}
			if payload[0] != 0 {
				return nil, fmt.Errorf("ADB compat version %d, want 0", payload[0])
			}
			f.ADB, state = payload, 1
		case typ == blockSig && state == 1:
			f.Sigs = append(f.Sigs, payload)
		case typ == blockData && state >= 1:
			if len(payload) < 8 {
				return nil, fmt.Errorf("DATA block at %d shorter than its header", pos)
			}
			f.Data = append(f.Data, DataBlock{
				Path:    binary.LittleEndian.Uint32(payload),
				File:    binary.LittleEndian.Uint32(payload[4:]),
				Content: payload[8:],
			})
			state = 2
		default:
			return nil, fmt.Errorf("block of type %d at %d out of order", typ, pos)
		}
		next := (size + blockAlign - 1) / blockAlign * blockAlign
		if next > uint64(len(s)-pos) {
			next = uint64(len(s) - pos)
		}
		pos += int(next)
	}
	if f.ADB == nil {
		return nil, errors.New("no ADB block")
	}
	return f, nil
}

// Root is the root value of the ADB block.
func (f *File) Root() uint32 { return binary.LittleEndian.Uint32(f.ADB[4:]) }

// readBlob returns the bytes of blob value v of block b; null is nil.
func readBlob(b []byte, v uint32) ([]byte, error) {
	off := int(v & valueMask)
	var n, hdr int
	switch v & typeMask {
	case typeSpecial:
		if v == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("value %#08x is not a blob", v)
	case typeBlob8:
		if off+1 > len(b) {
			return nil, errOutside(v)
		}
		n, hdr = int(b[off]), 1
	case typeBlob16:
		if off+2 > len(b) {
			return nil, errOutside(v)
		}
		n, hdr = int(binary.LittleEndian.Uint16(b[off:])), 2
	case typeBlob32:
		if off+4 > len(b) {
			return nil, errOutside(v)
		}
		n, hdr = int(binary.LittleEndian.Uint32(b[off:])), 4
	default:
		return nil, fmt.Errorf("value %#08x is not a blob", v)
	}
	if off+hdr+n > len(b) || off+hdr+n < off {
		return nil, errOutside(v)
	}
	return b[off+hdr : off+hdr+n], nil
}

// readInt returns integer value v of block b; null is 0.
func readInt(b []byte, v uint32) (uint64, error) {
	off := int(v & valueMask)
	switch v & typeMask {
	case typeSpecial:
		if v == 0 {
			return 0, nil
		}
	case typeInt:
		return uint64(v & valueMask), nil
	case typeInt32:
		if off+4 > len(b) {
			return 0, errOutside(v)
		}
		return uint64(binary.LittleEndian.Uint32(b[off:])), nil
	case typeInt64:
		if off+8 > len(b) {
			return 0, errOutside(v)
		}
		return binary.LittleEndian.Uint64(b[off:]), nil
	}
	return 0, fmt.Errorf("value %#08x is not an integer", v)
}

// readSlots returns the slots of object or array v of block b, slot 0 the
// count; null is no slots.
func readSlots(b []byte, v uint32) ([]uint32, error) {
	if v == 0 {
		return nil, nil
	}
	if v&typeMask != typeObject && v&typeMask != typeArray {
		return nil, fmt.Errorf("value %#08x is not an object or array", v)
	}
	off := int(v & valueMask)
	if off+4 > len(b) {
		return nil, errOutside(v)
	}
	n := int(binary.LittleEndian.Uint32(b[off:]))
	if n == 0 || n > (len(b)-off)/4 {
		return nil, fmt.Errorf("object %#08x: %d slots do not fit", v, n)
	}
	s := make([]uint32, n)
	for i := range s {
		s[i] = binary.LittleEndian.Uint32(b[off+4*i:])
	}
	return s, nil
}
