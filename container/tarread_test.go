package container

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readAllTar reads every entry of an archive with tarReader: headers and
// data.
func readAllTar(t testing.TB, b []byte) ([]tarHeader, []string, error) {
	t.Helper()
	tr := newTarReader(bytes.NewReader(b))
	var hs []tarHeader
	var data []string
	for {
		h, err := tr.next()
		if err == io.EOF {
			return hs, data, nil
		}
		if err != nil {
			return hs, data, err
		}
		d, err := io.ReadAll(tr)
		if err != nil {
			return hs, data, err
		}
		hs = append(hs, *h)
		data = append(data, string(d))
	}
}

// compareWithArchiveTar reads b with archive/tar and with tarReader and
// reports where they differ.
func compareWithArchiveTar(t *testing.T, b []byte) {
	t.Helper()
	hs, data, err := readAllTar(t, b)
	if err != nil {
		t.Fatalf("tarReader: %v", err)
	}
	ref := tar.NewReader(bytes.NewReader(b))
	for i := 0; ; i++ {
		rh, err := ref.Next()
		if err == io.EOF {
			if i != len(hs) {
				t.Fatalf("tarReader read %d entries, archive/tar %d", len(hs), i)
			}
			return
		}
		if err != nil {
			t.Fatalf("archive/tar: %v", err)
		}
		rd, _ := io.ReadAll(ref)
		if i >= len(hs) {
			t.Fatalf("tarReader stopped after %d entries", len(hs))
		}
		h := hs[i]
		typ := rh.Typeflag
		if h.name != rh.Name || h.linkname != rh.Linkname || h.typ != typ ||
			h.mode != rh.Mode&0o7777 || h.uid != rh.Uid || h.gid != rh.Gid ||
			!h.mtime.Equal(rh.ModTime) || !h.atime.Equal(rh.AccessTime) || data[i] != string(rd) {
			t.Errorf("entry %d:\n tarReader  %+v %q\n archive/tar %q %q %c %o %d:%d %v %v %q",
				i, h, data[i], rh.Name, rh.Linkname, typ, rh.Mode, rh.Uid, rh.Gid, rh.ModTime, rh.AccessTime, rd)
		}
	}
}

// TestTarReaderMatchesArchiveTar: what archive/tar writes in each format,
// long names, long link targets, large ids, sub-second times and setuid
// modes included, reads the same with tarReader.
func TestTarReaderMatchesArchiveTar(t *testing.T) {
	long := strings.Repeat("directory-name/", 12) + "file"
	mt := time.Unix(1700000000, 0)
	headers := []*tar.Header{
		{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mt},
		{Name: "bin/su", Typeflag: tar.TypeReg, Mode: 0o4755, Size: 5, ModTime: mt},
		{Name: "bin/sh", Typeflag: tar.TypeSymlink, Linkname: "su", ModTime: mt},
		{Name: "bin/su2", Typeflag: tar.TypeLink, Linkname: "bin/su", ModTime: mt},
		{Name: "dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3, ModTime: mt},
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: mt},
		{Name: "home/u/f", Typeflag: tar.TypeReg, Mode: 0o2640, Uid: 1000, Gid: 1001, Size: 0, ModTime: mt},
		{Name: long, Typeflag: tar.TypeReg, Mode: 0o644, Size: 600, ModTime: mt},
		{Name: "ln", Typeflag: tar.TypeSymlink, Linkname: long, ModTime: mt},
	}
	big := []*tar.Header{
		{Name: "big-ids", Typeflag: tar.TypeReg, Mode: 0o600, Uid: 1 << 24, Gid: 3 << 22, Size: 3, ModTime: mt},
	}
	pax := []*tar.Header{
		{Name: "sub-second", Typeflag: tar.TypeReg, Mode: 0o600, Size: 1,
			ModTime: time.Unix(1700000000, 123456789), AccessTime: time.Unix(1600000000, 5), Format: tar.FormatPAX},
		{Name: "naïve/ünïcode", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2, ModTime: mt, Format: tar.FormatPAX},
	}
	gnu := []*tar.Header{
		{Name: "with-atime", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1, ModTime: mt,
			AccessTime: time.Unix(1600000000, 0), Format: tar.FormatGNU},
	}
	for _, tc := range []struct {
		name    string
		format  tar.Format
		headers []*tar.Header
	}{
		{"ustar", tar.FormatUSTAR, headers[:7]},
		{"pax", tar.FormatPAX, append(append(headers, big...), pax...)},
		{"gnu", tar.FormatGNU, append(append(headers, big...), gnu...)},
		{"any", tar.FormatUnknown, append(headers, big...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for i, h := range tc.headers {
				h := *h
				h.Format = tc.format
				if err := tw.WriteHeader(&h); err != nil {
					t.Fatalf("header %d: %v", i, err)
				}
				if h.Typeflag == tar.TypeReg {
					tw.Write(bytes.Repeat([]byte{byte('a' + i)}, int(h.Size)))
				}
			}
			if err := tw.Close(); err != nil {
				t.Fatal(err)
			}
			compareWithArchiveTar(t, buf.Bytes())
		})
	}
}

// TestTarReaderReadsGNUTar: what the tar program writes (GNU tar on the
// build machine, in its gnu, oldgnu and posix formats) reads the same with
// tarReader as with archive/tar.
func TestTarReaderReadsGNUTar(t *testing.T) {
	_, err := exec.LookPath("tar")
	need(t, "needs the tar program", err)
	src := t.TempDir()
	long := filepath.Join(src, strings.Repeat("d", 90), strings.Repeat("e", 90))
	if err := os.MkdirAll(long, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(long, "file"), []byte("content"), 0o640)
	os.Symlink(filepath.Join(long, "file"), filepath.Join(src, "abs-link"))
	os.Link(filepath.Join(long, "file"), filepath.Join(src, "hard"))
	os.WriteFile(filepath.Join(src, "empty"), nil, 0o600)
	for _, format := range []string{"gnu", "oldgnu", "posix"} {
		t.Run(format, func(t *testing.T) {
			out, err := exec.Command("tar", "--format="+format, "-C", src, "-cf", "-", ".").Output()
			if err != nil {
				t.Fatal(err)
			}
			compareWithArchiveTar(t, out)
		})
	}
}

// TestTarReaderRefuses: damaged archives fail, and never with a panic.
func TestTarReaderRefuses(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1000})
	tw.Write(bytes.Repeat([]byte("x"), 1000))
	tw.Close()
	good := buf.Bytes()

	badSum := bytes.Clone(good)
	badSum[0] = 'g'
	truncated := good[:tarBlock+100]
	zeroThenJunk := append(make([]byte, 2*tarBlock), good...)
	copy(zeroThenJunk[tarBlock:], good[:tarBlock])
	sparse := bytes.Clone(good)
	sparse[156] = tarGNUSpar
	fixSum(sparse[:tarBlock])

	for name, b := range map[string][]byte{
		"checksum":             badSum,
		"truncated data":       truncated,
		"truncated header":     good[:100],
		"zero block then junk": zeroThenJunk,
		"garbage":              bytes.Repeat([]byte{1}, 1024),
		"sparse":               sparse,
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := readAllTar(t, b); err == nil {
				t.Error("read without error")
			}
		})
	}
	if _, _, err := readAllTar(t, nil); err != nil {
		t.Errorf("empty stream: %v", err)
	}
}

// fixSum writes a header block's checksum.
func fixSum(b []byte) {
	u, _ := checksums(b)
	copy(b[148:156], []byte(strings.Repeat("0", 6-len(octal(u)))+octal(u)+"\x00 "))
}

func octal(n int64) string {
	s := ""
	for ; n > 0; n /= 8 {
		s = string(rune('0'+n%8)) + s
	}
	return s
}

// FuzzTarReader: no input makes the reader panic, loop or hold more than
// its bounds; an archive archive/tar reads whole reads the same, entry for
// entry (names and data), unless it uses what tarReader refuses.
func FuzzTarReader(f *testing.F) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: strings.Repeat("n", 120), Typeflag: tar.TypeReg, Mode: 0o644, Size: 3, Format: tar.FormatPAX})
	tw.Write([]byte("abc"))
	tw.WriteHeader(&tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: strings.Repeat("t", 120), Format: tar.FormatGNU})
	tw.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		hs, data, err := readAllTar(t, b)
		if err != nil {
			return
		}
		ref := tar.NewReader(bytes.NewReader(b))
		for i := range hs {
			rh, rerr := ref.Next()
			if rerr != nil {
				return // archive/tar is stricter here (or reads what tarReader skips)
			}
			if rh.Typeflag == tar.TypeXGlobalHeader || rh.Format == tar.FormatUnknown {
				return
			}
			rd, rerr := io.ReadAll(ref)
			if rerr != nil && !errors.Is(rerr, io.ErrUnexpectedEOF) {
				return
			}
			if rh.Name != hs[i].name || string(rd) != data[i] {
				t.Fatalf("entry %d: tarReader %q (%d bytes), archive/tar %q (%d bytes)", i, hs[i].name, len(data[i]), rh.Name, len(rd))
			}
		}
	})
}
