//go:build linux && !(amd64 || arm64 || arm || mips || mipsle)

package telemetry

import "golang.org/x/sys/unix"

// rawStatfs: on the architectures nodekeeper is not built for, the
// ordinary statfs (rawsys_linux.go).
func rawStatfs(path string, st *unix.Statfs_t) error { return unix.Statfs(path, st) }
