package container

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// LimitSetter is a Driver that can change the limits of a running container
// in place, without restarting it. LXC is one.
type LimitSetter interface {
	SetLimits(ctx context.Context, name string, r Resources) error
}

// ErrNotRunning is wrapped by SetLimits' error for a sliver whose container
// does not run.
var ErrNotRunning = errors.New("sliver is not running")

// SetLimits changes the memory, CPU and pids limits of a started sliver in
// its cgroups, at once (the agent's policies throttle slivers this way).
// Zero fields of r are left as they are. The record keeps the spec's
// limits: a restarted container gets those again.
func (m *Manager) SetLimits(ctx context.Context, name string, r Resources) error {
	if err := m.writable("set limits"); err != nil {
		return err
	}
	// The limits come from a policy: held to the spec's bounds (no
	// negative, nothing beyond any node) before any reaches lxc-cgroup.
	if err := r.validate(); err != nil {
		return fmt.Errorf("sliver %s: %w", truncate(name, 40), err)
	}
	e, err := m.lookup(name)
	if err != nil {
		return err
	}
	ls, ok := m.driver.(LimitSetter)
	if !ok {
		return fmt.Errorf("sliver %s: the container driver cannot change limits of a running container", name)
	}
	e.op.Lock()
	defer e.op.Unlock()
	m.mu.Lock()
	st := e.s.State
	m.mu.Unlock()
	if st != Started {
		return fmt.Errorf("sliver %s: %w (%s)", name, ErrNotRunning, st)
	}
	if err := ls.SetLimits(ctx, ContainerName(name), r); err != nil {
		return fmt.Errorf("sliver %s: %w", name, err)
	}
	m.log.Info("sliver limits changed", "sliver", name, "memory_bytes", r.MemoryBytes, "cpu_millicores", r.CPUMillicores, "pids", r.Pids)
	return nil
}

// SetLimits writes the limits into a running container's cgroups with
// lxc-cgroup (the same keys its config uses, v1 or v2 per controller).
func (d *LXC) SetLimits(ctx context.Context, name string, r Resources) error {
	r.DiskBytes = 0
	lines, err := d.cgroups().limitLines(r)
	if err != nil {
		return err
	}
	for _, kv := range lines {
		file := strings.TrimPrefix(strings.TrimPrefix(kv[0], "lxc.cgroup2."), "lxc.cgroup.")
		if _, err := d.run(ctx, false, "lxc-cgroup", "-n", name, file, kv[1]); err != nil {
			return fmt.Errorf("lxc: set %s of %s: %w", file, name, err)
		}
	}
	return nil
}
