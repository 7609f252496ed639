package container

import (
	"encoding/binary"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestContentOnDiskBeforeMarker: what a deploy declares complete is on
// disk, not only in the page cache, when the declaration is: the cached
// template's files before its directory is renamed into place, the data
// archive before its name, the layer's copy of the template and the data
// it unpacked before the layer's marker. A power cut would otherwise
// leave them named complete and empty. The state directory is an ext4
// file system of the test's own, whose delayed allocation FIEMAP shows:
// an extent the kernel has not written yet is FIEMAP_EXTENT_DELALLOC.
func TestContentOnDiskBeforeMarker(t *testing.T) {
	l := newLab(t)
	img := filepath.Join(t.TempDir(), "state.img")
	if err := makeImage(img, 128<<20); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(l.stateDir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := mountImage(img, l.stateDir); err != nil {
		need(t, "needs loop-mounted ext4", err)
	}
	t.Cleanup(func() {
		if err := unmount(l.stateDir); err != nil {
			t.Error(err)
		}
	})
	m, _ := l.open("copy")
	ctx := ctxT(t)
	data := l.serve("data.tar.gz", makeTar(t, []tarEntry{{name: "srv/blob", typ: '0', mode: 0o644, body: string(make([]byte, 300<<10)) + "end"}}))
	name := "dur-" + randHex(6)
	s, err := m.Create(ctx, Spec{Name: name, Template: l.busybox(), Data: &data, Request: Deploy})
	if err != nil {
		t.Fatal(err)
	}
	if s.State != Deployed {
		t.Fatalf("state %s, want deployed", s.State)
	}
	checked := 0
	for _, root := range []string{filepath.Join(l.stateDir, "cache"), filepath.Join(l.stateDir, "layers", name)} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			if fi, err := d.Info(); err != nil || fi.Size() < 4096 {
				return err // small files may live inline in the inode
			}
			flags, n, err := extentFlags(p)
			if err != nil {
				return err
			}
			checked++
			if n == 0 || flags&(fiemapExtentDelalloc|fiemapExtentUnknown) != 0 {
				t.Errorf("%s: %d extents, flags %#x: not on disk yet", p, n, flags)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The busybox binary in the template and in the layer's copy, the data
	// archive and the blob it unpacked into the layer.
	if checked < 4 {
		t.Errorf("checked %d files, want at least 4", checked)
	}
	if err := m.Remove(ctx, name); err != nil {
		t.Fatal(err)
	}
}

// FIEMAP (linux/fiemap.h): the extents of a file as the file system maps
// them. Without FIEMAP_FLAG_SYNC the kernel reports them as they are,
// delayed allocations included.
const (
	fsIOCFiemap          = 0xC020660B
	fiemapExtentUnknown  = 0x2
	fiemapExtentDelalloc = 0x4
	fiemapHeader         = 32 // struct fiemap before fm_extents
	fiemapExtentSize     = 56 // struct fiemap_extent
	fiemapMaxExtents     = 64
)

// extentFlags returns the OR of the flags of path's extents (up to
// fiemapMaxExtents of them) and how many it has.
func extentFlags(path string) (flags uint32, n int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	buf := make([]uint64, (fiemapHeader+fiemapMaxExtents*fiemapExtentSize)/8)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(buf)*8)
	binary.NativeEndian.PutUint64(b[8:], ^uint64(0))        // fm_length: the whole file
	binary.NativeEndian.PutUint32(b[24:], fiemapMaxExtents) // fm_extent_count
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIOCFiemap, uintptr(unsafe.Pointer(&buf[0]))); e != 0 {
		return 0, 0, &os.PathError{Op: "FIEMAP", Path: path, Err: e}
	}
	n = int(binary.NativeEndian.Uint32(b[20:])) // fm_mapped_extents
	for i := range min(n, fiemapMaxExtents) {
		flags |= binary.NativeEndian.Uint32(b[fiemapHeader+i*fiemapExtentSize+40:])
	}
	return flags, n, nil
}
