//go:build linux && (amd64 || arm64)

package telemetry

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawStatfs is statfs(2) without the scheduler (rawsys_linux.go), for local
// filesystems only.
func rawStatfs(path string, st *unix.Statfs_t) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	if _, _, e := syscall.RawSyscall(unix.SYS_STATFS, uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(st)), 0); e != 0 {
		return e
	}
	return nil
}
