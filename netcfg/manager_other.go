//go:build !linux

package netcfg

import (
	"context"
	"errors"
)

// ErrUnsupported: netcfg drives the Linux kernel only.
var ErrUnsupported = errors.New("netcfg: only supported on Linux")

// Manager plans and applies network state in one network namespace
// (Linux only).
type Manager struct{}

// Open fails outside Linux.
func Open(Options) (*Manager, error) { return nil, ErrUnsupported }

// Close does nothing outside Linux.
func (m *Manager) Close() error { return nil }

// Observe fails outside Linux.
func (m *Manager) Observe(context.Context) (Config, error) { return Config{}, ErrUnsupported }

// Plan fails outside Linux.
func (m *Manager) Plan(context.Context, Config) (*Plan, error) { return nil, ErrUnsupported }

// Sync fails outside Linux.
func (m *Manager) Sync(context.Context, Config) (*Plan, error) { return nil, ErrUnsupported }

// Apply fails outside Linux.
func (m *Manager) Apply(context.Context, *Plan) error { return ErrUnsupported }

// ApplyConfirmed fails outside Linux.
func (m *Manager) ApplyConfirmed(context.Context, *Plan, Confirm) error { return ErrUnsupported }

// Recover fails outside Linux.
func (m *Manager) Recover(context.Context) (bool, error) { return false, ErrUnsupported }

// TCPCheck returns a check that fails outside Linux.
func (m *Manager) TCPCheck(string) HealthCheck {
	return func(context.Context) error { return ErrUnsupported }
}

// Watch fails outside Linux.
func (m *Manager) Watch(context.Context, WatchOptions) (<-chan Event, error) {
	return nil, ErrUnsupported
}
