//go:build !linux

package container

import (
	"errors"
	"os"
)

func lockExclusive(string) (*os.File, error) {
	return nil, errors.New("slivers need Linux")
}

func lockShared(string) (*os.File, error) {
	return nil, errors.New("slivers need Linux")
}
