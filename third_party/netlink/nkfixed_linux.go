package netlink

import (
	"io"
	"unsafe"
)

// Fixed-size kernel structures are decoded field by field here instead of
// through encoding/binary.Read and Write, whose reflection-driven struct
// path cost about 25 KB on mips (README.nodekeeper). The results, errors
// included, are those binary.Read gave.

// shortRead returns the error binary.Read returned for a buffer of len(b)
// bytes holding a value of size bytes: nil if it is long enough, io.EOF if
// empty, io.ErrUnexpectedEOF if cut short.
func shortRead(b []byte, size int) error {
	switch {
	case len(b) >= size:
		return nil
	case len(b) == 0:
		return io.EOF
	default:
		return io.ErrUnexpectedEOF
	}
}

// decodeStats32 reads a struct rtnl_link_stats (IFLA_STATS).
func decodeStats32(b []byte) (*LinkStatistics32, error) {
	s := new(LinkStatistics32)
	w := (*[unsafe.Sizeof(*s) / 4]uint32)(unsafe.Pointer(s))
	if err := shortRead(b, len(w)*4); err != nil {
		return nil, err
	}
	for i := range w {
		w[i] = native.Uint32(b[i*4:])
	}
	return s, nil
}

// decodeStats64 reads a struct rtnl_link_stats64 (IFLA_STATS64).
func decodeStats64(b []byte) (*LinkStatistics64, error) {
	s := new(LinkStatistics64)
	w := (*[unsafe.Sizeof(*s) / 8]uint64)(unsafe.Pointer(s))
	if err := shortRead(b, len(w)*8); err != nil {
		return nil, err
	}
	for i := range w {
		w[i] = native.Uint64(b[i*8:])
	}
	return s, nil
}
