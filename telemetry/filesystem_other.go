//go:build !linux

package telemetry

import "errors"

func statFilesystem(path, mount string) (Filesystem, error) {
	return Filesystem{}, errors.New("statfs: not supported on this OS")
}
