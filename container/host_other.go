//go:build !linux

package container

import (
	"errors"
	"os"
)

var errNotLinux = errors.New("slivers need Linux")

func freeBytes(string) (int64, error) { return 0, errNotLinux }
func memTotal() (int64, error)        { return 0, errNotLinux }
func isMountpoint(string) bool        { return false }
func makeImage(string, int64) error   { return errNotLinux }
func mountImage(string, string) error { return errNotLinux }
func unmount(string) error            { return errNotLinux }
func overlayWorks(string) error       { return errNotLinux }

// syncFS has no syncfs(2) to call here; the renames that follow it are
// all the ordering there is.
func syncFS(string) error { return nil }

func syscallRmdir(string) error { return errNotLinux }

func fileOwner(os.FileInfo) (int, int, bool) { return 0, 0, false }
