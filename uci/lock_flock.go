//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package uci

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes a flock on f, exclusive or shared, waiting for it. File
// systems without flock (ENOSYS) are accepted unlocked, as libuci does.
func lockFile(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if errors.Is(err, syscall.ENOSYS) {
			return nil
		}
		return err
	}
}

func unlockFile(f *os.File) {
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
