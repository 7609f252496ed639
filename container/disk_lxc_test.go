package container

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiskLimit: a sliver with a disk limit writes into a size-capped ext4
// image and runs out of space at the limit; removing it unmounts the image
// and frees the loop device.
func TestDiskLimit(t *testing.T) {
	for _, mode := range []string{"overlay", "copy"} {
		t.Run(mode, func(t *testing.T) {
			l := newLab(t)
			m, _ := l.open(mode)
			ctx := ctxT(t)
			tmpl := l.busybox()
			name := "disk-" + randHex(6)
			if _, err := m.Create(ctx, Spec{Name: name, Template: tmpl, Request: Start, Resources: Resources{DiskBytes: 32 << 20}}); err != nil {
				t.Fatal(err)
			}
			out, code := attach(t, m, name, "sh", "-c", "dd if=/dev/zero of=/root/big bs=1M count=64 2>&1; sync")
			if code == 0 && !strings.Contains(out, "No space left") {
				t.Fatalf("wrote 64 MiB into a 32 MiB sliver: %q", out)
			}
			if !strings.Contains(out, "No space left") {
				t.Errorf("dd output %q lacks \"No space left\"", out)
			}
			// The host's own disk did not take the write.
			img := filepath.Join(l.stateDir, "layers", name, "disk.img")
			if lim, err := m.Limits(ctx, name); err != nil || lim.DiskBytes != 32<<20 {
				t.Errorf("disk limit read back: %+v %v", lim, err)
			}
			if err := m.Remove(ctx, name); err != nil {
				t.Fatal(err)
			}
			nothingLeft(t, l, m, name, nil)
			loops, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
			for _, f := range loops {
				if b, _ := os.ReadFile(f); strings.HasPrefix(string(b), img) {
					t.Errorf("loop device %s still backs %s", f, img)
				}
			}
		})
	}
}
