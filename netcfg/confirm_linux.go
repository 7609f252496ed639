package netcfg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// revertTimeout bounds a revert that runs after its caller's context ended.
const revertTimeout = time.Minute

// ApplyConfirmed applies p and then gives c.Check c.Window to pass. If it
// does not, the state from before p is restored and the error wraps
// ErrReverted. The state to go back to is kept on disk (atomically) for the
// whole window, so that a crash in the window is reverted by Recover at
// the next start. Cancelling ctx in the window reverts too.
func (m *Manager) ApplyConfirmed(ctx context.Context, p *Plan, c Confirm) error {
	if c.Window <= 0 || c.Check == nil {
		return fmt.Errorf("netcfg: confirm window needs a duration and a health check")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	dir := stateDir(m.opts)
	if err := writePending(dir, pending{Before: p.Before, Desired: p.Desired,
		Deadline: time.Now().Add(c.Window), PID: os.Getpid()}); err != nil {
		return err
	}
	if err := m.apply(ctx, p); err != nil {
		return errors.Join(err, removePending(dir))
	}
	herr := waitHealthy(ctx, c)
	if herr == nil {
		m.log.Info("confirmed", "steps", len(p.Steps))
		return removePending(dir)
	}
	m.log.Warn("health check failed in the confirm window, reverting", "err", herr)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revertTimeout)
	defer cancel()
	if err := m.revert(rctx, p.Before); err != nil {
		// The file stays: the next Recover tries again.
		return fmt.Errorf("netcfg: health check failed (%v) and the revert failed: %w", herr, err)
	}
	if err := removePending(dir); err != nil {
		return err
	}
	return fmt.Errorf("%w: %v", ErrReverted, herr)
}

// Recover restores the state kept by a confirm window that was left open
// (the process died in it). Call it at start, before applying anything.
// It reports whether it reverted.
func (m *Manager) Recover(ctx context.Context) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir := stateDir(m.opts)
	p, err := readPending(dir)
	if err != nil || p == nil {
		return false, err
	}
	m.log.Warn("a confirm window was left open: restoring the state from before it", "pid", p.PID, "deadline", p.Deadline)
	if err := m.revert(ctx, p.Before); err != nil {
		return false, err
	}
	return true, removePending(dir)
}

func (m *Manager) revert(ctx context.Context, before Config) error {
	if err := before.Validate(); err != nil {
		return fmt.Errorf("netcfg: previous state: %w", err)
	}
	s, err := m.snapshot(ctx)
	if err != nil {
		return err
	}
	p, err := diff(before, s)
	if err != nil {
		return fmt.Errorf("netcfg: plan the revert: %w", err)
	}
	if err := m.apply(ctx, p); err != nil {
		return fmt.Errorf("netcfg: revert: %w", err)
	}
	m.log.Info("reverted", "steps", len(p.Steps))
	return nil
}

// TCPCheck is a HealthCheck that opens a TCP connection to addr
// ("192.0.2.1:1883", a literal address) from the Manager's namespace.
func (m *Manager) TCPCheck(addr string) HealthCheck {
	return func(ctx context.Context) error {
		var conn net.Conn
		err := m.inNetNS(func() error {
			var d net.Dialer
			var err error
			conn, err = d.DialContext(ctx, "tcp", addr)
			return err
		})
		if err != nil {
			return fmt.Errorf("reach %s: %w", addr, err)
		}
		return conn.Close()
	}
}
