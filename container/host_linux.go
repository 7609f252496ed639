package container

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// freeBytes is the space unprivileged users may still use on path's filesystem.
func freeBytes(path string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// syncFS writes out everything written to the file system holding dir,
// so that the files of an unpacked template, a fetched data archive or a
// copied layer are on disk before the rename or marker that says they are
// complete: one syncfs(2) instead of an fsync per file. Without it a power
// cut could leave a template whose directory is in place and whose files
// are empty (ext4's delayed allocation, UBIFS's write-back).
func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	return nil
}

// memTotal is the node's RAM in bytes.
func memTotal() (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	return parseMemTotal(b)
}

func parseMemTotal(meminfo []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("meminfo: MemTotal %q: %w", f[1], err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("meminfo: no MemTotal")
}

// isMountpoint reports whether dir is the root of a mount: its device
// differs from its parent's.
func isMountpoint(dir string) bool {
	var a, b syscall.Stat_t
	if syscall.Lstat(dir, &a) != nil || syscall.Lstat(filepath.Dir(dir), &b) != nil {
		return false
	}
	return a.Dev != b.Dev
}

// makeImage creates a sparse ext4 image of size bytes.
func makeImage(img string, size int64) error {
	f, err := os.OpenFile(img, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("disk image %s: %w", img, err)
	}
	// No reserved blocks: the whole size is the sliver's.
	out, err := exec.Command("mkfs.ext4", "-q", "-F", "-m", "0", img).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mkfs.ext4 %s: %w: %s", img, err, truncate(strings.TrimSpace(string(out)), 300))
	}
	return nil
}

// mountImage loop-mounts an ext4 image on dir. mount(8) sets the loop
// device to clear itself when the filesystem is unmounted.
func mountImage(img, dir string) error {
	out, err := exec.Command("mount", "-t", "ext4", "-o", "loop,nodev", img, dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mount %s on %s: %w: %s", img, dir, err, truncate(strings.TrimSpace(string(out)), 300))
	}
	return nil
}

func unmount(dir string) error {
	if err := syscall.Unmount(dir, 0); err != nil {
		return fmt.Errorf("unmount %s: %w", dir, err)
	}
	return nil
}

// overlayWorks mounts a throwaway overlay under dir to learn whether the
// kernel has overlayfs and dir's filesystem can be its upper layer (an
// overlay upper cannot itself be on overlayfs, as / is on OpenWrt).
func overlayWorks(dir string) error {
	tmp, err := os.MkdirTemp(dir, ".overlay-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var p [4]string
	for i, n := range []string{"lower", "upper", "work", "merged"} {
		p[i] = filepath.Join(tmp, n)
		if err := os.Mkdir(p[i], 0o700); err != nil {
			return err
		}
	}
	opts := "lowerdir=" + p[0] + ",upperdir=" + p[1] + ",workdir=" + p[2]
	if err := syscall.Mount("overlay", p[3], "overlay", 0, opts); err != nil {
		return fmt.Errorf("overlayfs on %s: %w", dir, err)
	}
	return unmount(p[3])
}

// syscallRmdir removes a directory with rmdir(2) alone: os.Remove would
// try unlink first, which cgroupfs answers with a misleading error.
func syscallRmdir(dir string) error { return syscall.Rmdir(dir) }

// fileOwner is the owner of a file as Lstat found it.
func fileOwner(fi os.FileInfo) (uid, gid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}
