//go:build !linux

package telemetry

import "errors"

func dumpLinks(buf []byte, fn func(*link)) ([]byte, error) {
	return buf, errors.New("netlink: not supported on this OS")
}
