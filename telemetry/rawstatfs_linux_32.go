//go:build linux && (arm || mips || mipsle)

package telemetry

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawStatfs is statfs64(2) without the scheduler (rawsys_linux.go), for
// local filesystems only; the 32-bit ABIs take the struct's size, as
// x/sys/unix's Statfs passes it.
func rawStatfs(path string, st *unix.Statfs_t) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	if _, _, e := syscall.RawSyscall(unix.SYS_STATFS64, uintptr(unsafe.Pointer(p)), unsafe.Sizeof(*st), uintptr(unsafe.Pointer(st))); e != 0 {
		return e
	}
	return nil
}
