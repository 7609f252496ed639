package container

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestExtractBombs: an archive that unpacks to more than its limits is
// refused before the bytes past the limit are written, by class: a gzip
// of zeros (1000 to 1), a header claiming a huge file, many small files,
// many entries that hold no bytes (inodes). The archive stays small in
// every case: what is bounded is what it unpacks to.
func TestExtractBombs(t *testing.T) {
	zeros := func(n int) string { return string(make([]byte, n)) }
	many := func(n int, typ byte) []tarEntry {
		var es []tarEntry
		for i := range n {
			es = append(es, tarEntry{name: fmt.Sprintf("f%d", i), typ: typ, mode: 0o755, link: "target"})
		}
		return es
	}
	lim := unpackLimits{bytes: 1 << 20, entries: 100}
	for _, tt := range []struct {
		class   string
		archive []byte
	}{
		{"gzip of zeros", makeTar(t, []tarEntry{{name: "zero", typ: tar.TypeReg, mode: 0o644, body: zeros(8 << 20)}})},
		{"files adding up", makeTar(t, []tarEntry{
			{name: "a", typ: tar.TypeReg, mode: 0o644, body: zeros(600 << 10)},
			{name: "b", typ: tar.TypeReg, mode: 0o644, body: zeros(600 << 10)},
		})},
		{"header claims a huge file", hugeHeader(t)},
		{"many directories", makeTar(t, many(101, tar.TypeDir))},
		{"many symlinks", makeTar(t, many(101, tar.TypeSymlink))},
	} {
		t.Run(tt.class, func(t *testing.T) {
			if len(tt.archive) > 64<<10 {
				t.Fatalf("the archive itself is %d bytes: the test is about what it unpacks to", len(tt.archive))
			}
			dir := t.TempDir()
			_, err := extract(context.Background(), bytes.NewReader(tt.archive), dir, lim)
			if !errors.Is(err, errTooBig) {
				t.Fatalf("extract: %v, want errTooBig", err)
			}
			var written int64
			filepath.WalkDir(dir, func(_ string, d fs.DirEntry, _ error) error {
				if fi, err := d.Info(); err == nil && fi.Mode().IsRegular() {
					written += fi.Size()
				}
				return nil
			})
			if written > lim.bytes {
				t.Errorf("%d bytes written, limit %d", written, lim.bytes)
			}
		})
	}
	// Within the limits it unpacks.
	if _, err := extract(context.Background(), bytes.NewReader(makeTar(t, many(99, tar.TypeDir))), t.TempDir(), lim); err != nil {
		t.Errorf("99 entries: %v", err)
	}
	if _, err := extract(context.Background(), bytes.NewReader(makeTar(t, []tarEntry{{name: "a", typ: tar.TypeReg, mode: 0o644, body: zeros(1 << 20)}})), t.TempDir(), lim); err != nil {
		t.Errorf("a file of exactly the limit: %v", err)
	}
}

// hugeHeader is a tar whose one header claims 1 TiB, with no body.
func hugeHeader(t *testing.T) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: "huge", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 40}); err != nil {
		t.Fatal(err)
	}
	tw.Flush() // body left short: the reader never gets there
	zw.Close()
	return buf.Bytes()
}

// TestExtractTrailingBomb: a small archive followed by an endless stream,
// compressed with a tool of the node's (xz), is refused once more than
// maxTrailing bytes follow the archive's end, not read to that end; an
// archive with ordinary padding unpacks.
func TestExtractTrailingBomb(t *testing.T) {
	_, err := exec.LookPath("xz")
	need(t, "needs xz", err)
	xz := func(b []byte) []byte {
		cmd := exec.Command("xz", "-c", "-1")
		cmd.Stdin = bytes.NewReader(b)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	plain := func(trailing int) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
		tw.Write([]byte("x"))
		tw.Close()
		buf.Write(make([]byte, trailing))
		return buf.Bytes()
	}
	lim := unpackLimits{bytes: 1 << 20, entries: 100}
	if _, err := extract(context.Background(), bytes.NewReader(xz(plain(10240))), t.TempDir(), lim); err != nil {
		t.Errorf("archive with 10 KiB of padding: %v", err)
	}
	_, err = extract(context.Background(), bytes.NewReader(xz(plain(64<<20))), t.TempDir(), lim)
	if !errors.Is(err, errTooBig) {
		t.Errorf("archive followed by 64 MiB: %v, want errTooBig", err)
	}
}
