package netcfg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// HealthCheck reports whether the node still reaches what it must (the
// broker, a gateway): nil means healthy.
type HealthCheck func(ctx context.Context) error

// Confirm is a confirm window, as `commit confirmed` on routers: after a
// plan is applied, Check must pass within Window or the state from before
// the plan is restored.
type Confirm struct {
	Window time.Duration
	Check  HealthCheck
	// Interval between tries of Check; 1s if 0.
	Interval time.Duration
}

// ErrReverted is returned (wrapped) by ApplyConfirmed when the health check
// did not pass in the window and the previous state was restored.
var ErrReverted = errors.New("health check did not pass in the confirm window: previous state restored")

// pending is what stays on disk while a confirm window is open: a crash in
// the window leaves it behind and Recover restores Before at the next start.
type pending struct {
	Before   Config    `json:"before"`
	Desired  Config    `json:"desired"`
	Deadline time.Time `json:"deadline"`
	PID      int       `json:"pid"`
}

const pendingFile = "pending.json"

func stateDir(o Options) string {
	if o.StateDir != "" {
		return o.StateDir
	}
	return DefaultStateDir
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, synced before and after the rename.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func writePending(dir string, p pending) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, pendingFile), data); err != nil {
		return fmt.Errorf("netcfg: keep previous state: %w", err)
	}
	return nil
}

// readPending returns the open confirm window left on disk, or nil.
func readPending(dir string) (*pending, error) {
	data, err := os.ReadFile(filepath.Join(dir, pendingFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netcfg: read previous state: %w", err)
	}
	var p pending
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("netcfg: previous state in %s: %w", filepath.Join(dir, pendingFile), err)
	}
	return &p, nil
}

func removePending(dir string) error {
	err := os.Remove(filepath.Join(dir, pendingFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("netcfg: close confirm window: %w", err)
	}
	return nil
}

// waitHealthy tries the check until it passes or the window closes.
func waitHealthy(ctx context.Context, c Confirm) error {
	interval := c.Interval
	if interval <= 0 {
		interval = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, c.Window)
	defer cancel()
	var last error
	for {
		tctx, tcancel := context.WithTimeout(ctx, interval)
		last = c.Check(tctx)
		tcancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last try: %v)", ctx.Err(), last)
		case <-time.After(interval):
		}
	}
}
