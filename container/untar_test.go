package container

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestExtractStaysInside: names with "..", absolute names and symlinks
// pointing out of the rootfs never write outside it.
func TestExtractStaysInside(t *testing.T) {
	tests := []struct {
		name    string
		entries []tarEntry
		inside  map[string]string // path inside dir -> content ("" = must exist)
	}{
		{"dot-dot", []tarEntry{{name: "../../escape", typ: tar.TypeReg, mode: 0o644, body: "x"}}, map[string]string{"escape": "x"}},
		{"absolute", []tarEntry{{name: "/escape", typ: tar.TypeReg, mode: 0o644, body: "y"}}, map[string]string{"escape": "y"}},
		{"symlink out, then write through it", []tarEntry{
			{name: "etc", typ: tar.TypeSymlink, link: "OUTSIDE"},
			{name: "etc/passwd", typ: tar.TypeReg, mode: 0o644, body: "z"},
		}, nil},
		{"hard link to outside", []tarEntry{{name: "h", typ: tar.TypeLink, link: "../../../OUTSIDE/secret"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			outside := filepath.Join(base, "OUTSIDE")
			os.Mkdir(outside, 0o755)
			os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600)
			dir := filepath.Join(base, "a", "b", "rootfs")
			os.MkdirAll(dir, 0o755)
			// The symlink case points at the real outside directory.
			for i := range tt.entries {
				if tt.entries[i].link == "OUTSIDE" {
					tt.entries[i].link = outside
				}
			}
			extract(context.Background(), bytes.NewReader(makeTar(t, tt.entries)), dir, unpackLimits{})
			ents, _ := os.ReadDir(outside)
			if len(ents) != 1 {
				t.Errorf("outside directory now holds %d entries", len(ents))
			}
			for _, p := range []string{filepath.Join(base, "escape"), filepath.Join(base, "a", "escape")} {
				if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s written outside the rootfs", p)
				}
			}
			for p, want := range tt.inside {
				if b, err := os.ReadFile(filepath.Join(dir, p)); err != nil || string(b) != want {
					t.Errorf("%s inside: %q %v, want %q", p, b, err, want)
				}
			}
		})
	}
}

// TestExtractKeepsMetadata: modes (setuid too), owners, symlinks and hard
// links survive; device nodes are skipped.
func TestExtractKeepsMetadata(t *testing.T) {
	if os.Geteuid() != 0 {
		need(t, "needs root to set owners", os.ErrPermission)
	}
	dir := t.TempDir()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "bin/su", Typeflag: tar.TypeReg, Mode: 0o4755, Uid: 0, Gid: 0, Size: 2},
		{Name: "home/u/f", Typeflag: tar.TypeReg, Mode: 0o600, Uid: 1000, Gid: 1001, Size: 2},
		{Name: "bin/sh", Typeflag: tar.TypeSymlink, Linkname: "su"},
		{Name: "bin/su2", Typeflag: tar.TypeLink, Linkname: "bin/su"},
		{Name: "dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3},
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777},
	} {
		tw.WriteHeader(h)
		if h.Size > 0 {
			tw.Write([]byte("ok"))
		}
	}
	tw.Close()
	stats, err := extract(context.Background(), &buf, dir, unpackLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Skipped != 1 || stats.Files != 6 {
		t.Errorf("stats %+v, want 6 files and 1 skipped", stats)
	}
	check := func(p string, mode fs.FileMode, uid, gid int) {
		t.Helper()
		fi, err := os.Lstat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		s := fi.Sys().(*syscall.Stat_t)
		if fi.Mode() != mode || int(s.Uid) != uid || int(s.Gid) != gid {
			t.Errorf("%s: %v %d:%d, want %v %d:%d", p, fi.Mode(), s.Uid, s.Gid, mode, uid, gid)
		}
	}
	check("bin/su", 0o755|fs.ModeSetuid, 0, 0)
	check("home/u/f", 0o600, 1000, 1001)
	check("tmp", 0o777|fs.ModeDir|fs.ModeSticky, 0, 0)
	if l, _ := os.Readlink(filepath.Join(dir, "bin/sh")); l != "su" {
		t.Errorf("symlink bin/sh -> %q", l)
	}
	a, _ := os.Stat(filepath.Join(dir, "bin/su"))
	b, _ := os.Stat(filepath.Join(dir, "bin/su2"))
	if !os.SameFile(a, b) {
		t.Error("hard link bin/su2 is a copy")
	}
	if _, err := os.Lstat(filepath.Join(dir, "dev/null")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("device node extracted: %v", err)
	}
}

func TestExtractCompressions(t *testing.T) {
	var plain bytes.Buffer
	tw := tar.NewWriter(&plain)
	tw.WriteHeader(&tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5})
	tw.Write([]byte("hello"))
	tw.Close()
	tests := []struct {
		name string
		tool []string // compresses stdin to stdout
	}{
		{"plain", nil},
		{"gzip", []string{"gzip", "-c"}},
		{"xz", []string{"xz", "-c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := plain.Bytes()
			if tt.tool != nil {
				_, err := exec.LookPath(tt.tool[0])
				need(t, "needs "+tt.tool[0], err)
				cmd := exec.Command(tt.tool[0], tt.tool[1:]...)
				cmd.Stdin = bytes.NewReader(data)
				if data, err = cmd.Output(); err != nil {
					t.Fatal(err)
				}
			}
			dir := t.TempDir()
			if _, err := extract(context.Background(), bytes.NewReader(data), dir, unpackLimits{}); err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "f")); err != nil || string(b) != "hello" {
				t.Errorf("f: %q %v", b, err)
			}
		})
	}
	if _, err := extract(context.Background(), bytes.NewReader([]byte("\x1f\x8bnot gzip")), t.TempDir(), unpackLimits{}); err == nil {
		t.Error("corrupt gzip extracted without error")
	}
	if _, err := extract(context.Background(), bytes.NewReader(bytes.Repeat([]byte{1}, 1024)), t.TempDir(), unpackLimits{}); err == nil {
		t.Error("garbage extracted without error")
	}
}
