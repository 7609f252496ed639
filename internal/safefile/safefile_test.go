package safefile

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadFile: whatever a path someone else named turns out to be, the
// read returns at once, with at most the limit read, or a clear error.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Repeat("s", n)), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "x.lua")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	link := filepath.Join(dir, "link")
	if err := os.Symlink(write("target", 10), link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		limit      int64
		wantLen    int
		wantIs     error
		wantErr    string
	}{
		{"small file", write("small", 10), 100, 10, nil, ""},
		{"exactly the limit", write("exact", 100), 100, 100, nil, ""},
		{"empty", write("empty", 0), 100, 0, nil, ""},
		{"one byte over", write("over", 101), 100, 0, ErrTooLarge, "over: larger than 100 bytes"},
		{"symlink to a regular file", link, 100, 10, nil, ""},
		{"fifo", fifo, 100, 0, ErrNotRegular, "x.lua: not a regular file (fifo)"},
		{"symlink to /dev/zero", zero, 100, 0, ErrNotRegular, "zero: not a regular file (device)"},
		{"/dev/zero", "/dev/zero", 100, 0, ErrNotRegular, "/dev/zero: not a regular file (device)"},
		{"directory", dir, 100, 0, ErrNotRegular, "not a regular file (directory)"},
		{"socket (open fails)", sock, 100, 0, syscall.ENXIO, "sock"},
		{"missing", filepath.Join(dir, "missing"), 100, 0, os.ErrNotExist, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ReadFile(tt.path, tt.limit)
			if tt.wantIs == nil {
				if err != nil || len(b) != tt.wantLen {
					t.Fatalf("got %d bytes, %v; want %d bytes", len(b), err, tt.wantLen)
				}
				return
			}
			if !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %d bytes, error %v; want one matching %v and saying %q", len(b), err, tt.wantIs, tt.wantErr)
			}
			if strings.Contains(err.Error(), "sss") {
				t.Errorf("the error quotes the file's contents: %v", err)
			}
		})
	}
}

// TestReadFileInfo: the stat returned is the file's that was read.
func TestReadFileInfo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(p, []byte("abc"), 0o640); err != nil {
		t.Fatal(err)
	}
	b, fi, err := ReadFileInfo(p, 10)
	if err != nil || string(b) != "abc" || fi.Mode().Perm() != 0o640 {
		t.Fatalf("got %q, %v, %v; want abc, mode 0640", b, fi, err)
	}
	if _, _, err := ReadFileInfo("/dev/zero", 10); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("/dev/zero: %v", err)
	}
}
