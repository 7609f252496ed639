//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package uci

import "os"

// lockFile is a no-op where flock is not available.
func lockFile(f *os.File, exclusive bool) error { return nil }

func unlockFile(f *os.File) {}
