//go:build !linux

package telemetry

import "errors"

// linkDumper lists links; only Linux has them here.
type linkDumper struct{}

func (d *linkDumper) dump(fn func(*link)) error {
	return errors.New("netlink: not supported on this OS")
}

func (d *linkDumper) close() {}
