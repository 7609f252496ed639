package container

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// A tar reader for rootfs tarballs, in place of archive/tar: the router
// binary only reads archives, and archive/tar with its writer, sparse files
// and the os/user lookups its init registers cost about 70 KB of flash on
// mips (docs/packaging.md). It reads what archivers write for a root file
// system: V7, ustar (name prefix), GNU (long names and long link targets,
// base-256 numbers) and PAX (path, linkpath, size, uid, gid, mtime, atime;
// other records are read and ignored) headers, both end-of-archive zero
// blocks. Sparse files (GNU 'S' entries, GNU.sparse PAX records) are refused
// with an error: no rootfs archiver writes them unless asked to (tar -S).
// container/tarread_test.go reads archive/tar's output with it.

const (
	tarBlock = 512
	// tarMaxSpecial bounds a PAX header or GNU long name, as archive/tar does.
	tarMaxSpecial = 1 << 20
)

// Entry types read here (the rest is skipped with its data).
const (
	tarReg     = '0'
	tarRegA    = '\x00'
	tarLink    = '1'
	tarSymlink = '2'
	tarChar    = '3'
	tarBlockT  = '4'
	tarDir     = '5'
	tarFifo    = '6'
	tarPAX     = 'x'
	tarPAXG    = 'g'
	tarGNUName = 'L'
	tarGNULink = 'K'
	tarGNUSpar = 'S'
)

var errTarHeader = errors.New("invalid tar header")

// tarHeader is one archive entry.
type tarHeader struct {
	name, linkname string
	typ            byte
	mode           int64 // permission bits and setuid, setgid, sticky (07777)
	uid, gid       int
	size           int64
	mtime, atime   time.Time // atime zero when the archive has none
}

// tarReader reads entries with next and the current entry's data with Read.
type tarReader struct {
	r      io.Reader
	remain int64 // data bytes of the current entry not yet read
	pad    int64 // padding after them
	blk    [tarBlock]byte
}

func newTarReader(r io.Reader) *tarReader { return &tarReader{r: r} }

// Read reads the current entry's data; io.EOF at its end.
func (t *tarReader) Read(p []byte) (int, error) {
	if t.remain <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > t.remain {
		p = p[:t.remain]
	}
	n, err := t.r.Read(p)
	t.remain -= int64(n)
	if err == io.EOF && t.remain > 0 {
		err = io.ErrUnexpectedEOF
	} else if err == io.EOF {
		err = nil
	}
	return n, err
}

// skip discards the rest of the current entry and its padding.
func (t *tarReader) skip() error {
	n := t.remain + t.pad
	t.remain, t.pad = 0, 0
	if n == 0 {
		return nil
	}
	got, err := io.CopyN(io.Discard, t.r, n)
	if got < n && (err == nil || err == io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// setData makes the next size bytes (and their padding) the current data.
func (t *tarReader) setData(size int64) {
	t.remain = size
	t.pad = -size & (tarBlock - 1)
}

// next returns the next file entry, after the metadata entries that describe
// it; io.EOF at the end of the archive.
func (t *tarReader) next() (*tarHeader, error) {
	var pax map[string]string
	var longName, longLink string
	for {
		if err := t.skip(); err != nil {
			return nil, err
		}
		h, err := t.readHeader()
		if err != nil {
			return nil, err
		}
		switch h.typ {
		case tarPAX, tarPAXG:
			t.setData(h.size)
			recs, err := t.readSpecial()
			if err != nil {
				return nil, err
			}
			if h.typ == tarPAXG {
				continue // archive-wide defaults: nothing here uses them
			}
			if pax, err = parsePAXRecords(recs); err != nil {
				return nil, err
			}
			continue
		case tarGNUName, tarGNULink:
			t.setData(h.size)
			b, err := t.readSpecial()
			if err != nil {
				return nil, err
			}
			if h.typ == tarGNUName {
				longName = cString(b)
			} else {
				longLink = cString(b)
			}
			continue
		case tarGNUSpar:
			return nil, fmt.Errorf("%q: sparse files are not supported", h.name)
		}
		if longName != "" {
			h.name = longName
		}
		if longLink != "" {
			h.linkname = longLink
		}
		if err := h.mergePAX(pax); err != nil {
			return nil, err
		}
		if h.typ == tarRegA {
			h.typ = tarReg
			if strings.HasSuffix(h.name, "/") {
				h.typ = tarDir
			}
		}
		if h.size < 0 {
			return nil, errTarHeader
		}
		switch h.typ {
		case tarLink, tarSymlink, tarChar, tarBlockT, tarDir, tarFifo:
			t.setData(0) // header-only types: a size field means nothing
		default:
			t.setData(h.size)
		}
		return h, nil
	}
}

// readSpecial reads the current entry's data whole (a PAX header or GNU long
// name), up to tarMaxSpecial.
func (t *tarReader) readSpecial() ([]byte, error) {
	if t.remain > tarMaxSpecial {
		return nil, fmt.Errorf("tar metadata entry of %d bytes", t.remain)
	}
	b := make([]byte, t.remain)
	if _, err := io.ReadFull(t, b); err != nil {
		return nil, err
	}
	return b, nil
}

// readHeader reads one header block; io.EOF at the end-of-archive blocks
// (or a clean end of the stream).
func (t *tarReader) readHeader() (*tarHeader, error) {
	b := t.blk[:]
	if _, err := io.ReadFull(t.r, b); err != nil {
		return nil, err // io.EOF: the stream ends where a header could begin
	}
	if isZero(b) {
		if _, err := io.ReadFull(t.r, b); err != nil {
			return nil, err
		}
		if !isZero(b) {
			return nil, errTarHeader
		}
		return nil, io.EOF
	}
	sum, err := parseOctal(b[148:156])
	if err != nil {
		return nil, err
	}
	if u, s := checksums(b); sum != u && sum != s {
		return nil, fmt.Errorf("%w: checksum mismatch", errTarHeader)
	}
	var p numParser
	h := &tarHeader{
		typ:      b[156],
		name:     cString(b[0:100]),
		linkname: cString(b[157:257]),
		size:     p.numeric(b[124:136]),
		mode:     p.numeric(b[100:108]) & 0o7777,
		uid:      int(p.numeric(b[108:116])),
		gid:      int(p.numeric(b[116:124])),
		mtime:    time.Unix(p.numeric(b[136:148]), 0),
	}
	magic, version := string(b[257:263]), string(b[263:265])
	var prefix string
	switch {
	case magic == "ustar\x00" && string(b[508:512]) == "tar\x00": // star
		prefix = cString(b[345:476])
	case magic == "ustar\x00":
		prefix = cString(b[345:500])
	case magic == "ustar " && version == " \x00": // GNU
		if b[345] != 0 {
			var q numParser
			if at := q.numeric(b[345:357]); q.err == nil {
				h.atime = time.Unix(at, 0)
			}
		}
	}
	if prefix != "" {
		h.name = prefix + "/" + h.name
	}
	if p.err != nil {
		return nil, p.err
	}
	return h, nil
}

// mergePAX applies the PAX records that matter here.
func (h *tarHeader) mergePAX(pax map[string]string) error {
	if pax["GNU.sparse.map"] != "" || pax["GNU.sparse.major"] != "" || pax["GNU.sparse.offset"] != "" {
		return fmt.Errorf("%q: sparse files are not supported", h.name)
	}
	for k, v := range pax {
		if v == "" {
			continue // keep the header's value
		}
		var err error
		var n int64
		switch k {
		case "path":
			h.name = v
		case "linkpath":
			h.linkname = v
		case "uid":
			n, err = strconv.ParseInt(v, 10, 64)
			h.uid = int(n)
		case "gid":
			n, err = strconv.ParseInt(v, 10, 64)
			h.gid = int(n)
		case "size":
			h.size, err = strconv.ParseInt(v, 10, 64)
		case "mtime":
			h.mtime, err = parsePAXTime(v)
		case "atime":
			h.atime, err = parsePAXTime(v)
		}
		if err != nil {
			return fmt.Errorf("%w: PAX record %s=%q", errTarHeader, k, v)
		}
	}
	return nil
}

// parsePAXRecords parses "LEN key=value\n" records.
func parsePAXRecords(b []byte) (map[string]string, error) {
	recs := map[string]string{}
	s := string(b)
	for s != "" {
		nStr, rest, ok := strings.Cut(s, " ")
		n, err := strconv.ParseInt(nStr, 10, 0)
		if !ok || err != nil || n < 5 || n > int64(len(s)) {
			return nil, fmt.Errorf("%w: PAX record length", errTarHeader)
		}
		n -= int64(len(nStr) + 1)
		if n <= 0 || rest[n-1] != '\n' {
			return nil, fmt.Errorf("%w: PAX record", errTarHeader)
		}
		k, v, ok := strings.Cut(rest[:n-1], "=")
		if !ok || k == "" || strings.IndexByte(k, 0) >= 0 ||
			((k == "path" || k == "linkpath") && strings.IndexByte(v, 0) >= 0) {
			return nil, fmt.Errorf("%w: PAX record %q", errTarHeader, k)
		}
		recs[k] = v
		s = rest[n:]
	}
	return recs, nil
}

// parsePAXTime parses "SECONDS[.FRACTION]".
func parsePAXTime(s string) (time.Time, error) {
	ss, sn, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(ss, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	var nsecs int64
	for i := 0; i < 9; i++ {
		nsecs *= 10
		if i < len(sn) {
			c := sn[i]
			if c < '0' || c > '9' {
				return time.Time{}, errTarHeader
			}
			nsecs += int64(c - '0')
		}
	}
	for i := 9; i < len(sn); i++ {
		if sn[i] < '0' || sn[i] > '9' {
			return time.Time{}, errTarHeader
		}
	}
	if strings.HasPrefix(ss, "-") {
		nsecs = -nsecs
	}
	return time.Unix(secs, nsecs), nil
}

// numParser parses a header's numeric fields, keeping the first error.
type numParser struct{ err error }

// numeric parses octal or GNU base-256 (high bit set, two's complement).
func (p *numParser) numeric(b []byte) int64 {
	if len(b) > 0 && b[0]&0x80 != 0 {
		var inv byte
		if b[0]&0x40 != 0 {
			inv = 0xff
		}
		var x uint64
		for i, c := range b {
			c ^= inv
			if i == 0 {
				c &= 0x7f
			}
			if x>>56 > 0 {
				p.err = fmt.Errorf("%w: number overflows", errTarHeader)
				return 0
			}
			x = x<<8 | uint64(c)
		}
		if x>>63 > 0 {
			p.err = fmt.Errorf("%w: number overflows", errTarHeader)
			return 0
		}
		if inv == 0xff {
			return ^int64(x)
		}
		return int64(x)
	}
	n, err := parseOctal(b)
	if err != nil && p.err == nil {
		p.err = err
	}
	return n
}

// parseOctal parses an octal field padded with spaces or NULs.
func parseOctal(b []byte) (int64, error) {
	b = bytes.Trim(b, " \x00")
	if len(b) == 0 {
		return 0, nil
	}
	x, err := strconv.ParseUint(cString(b), 8, 63)
	if err != nil {
		return 0, fmt.Errorf("%w: number %q", errTarHeader, b)
	}
	return int64(x), nil
}

// checksums returns the unsigned and signed sums of the block with its
// checksum field read as spaces (old archivers summed signed bytes).
func checksums(b []byte) (unsigned, signed int64) {
	for i, c := range b {
		if i >= 148 && i < 156 {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	return unsigned, signed
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// cString is b up to its first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
