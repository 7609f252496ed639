package webaction

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/rollout"
)

// RolloutOptions are a rollout's rules, as apply's flags give them; zero
// values take apply's defaults (a canary of 1, waves doubling, a soak of
// 60s, at most 10% of a wave failed, 5 minutes for a wave's reports).
type RolloutOptions struct {
	Canary      int
	Growth      float64
	Soak        time.Duration // negative: none
	MaxFailed   float64       // a fraction: 0.1 is 10%
	WaveTimeout time.Duration
	// Resume continues the running rollout of the same plan (one this
	// server stopped, or another process's that was interrupted);
	// TakeOver starts anew over a running one.
	Resume, TakeOver bool
}

// maxOutput bounds the lines of a rollout's output kept.
const maxOutput = 500

// Rollout is one rollout started by the web view, running in the
// background.
type Rollout struct {
	Dir     string
	Who     string
	Started time.Time

	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	lines   []string
	partial []byte
	rec     *rollout.Record
	err     error
}

// Write takes the rollout's output (rollout.Options.Out): whole lines are
// kept, the last maxOutput of them.
func (r *Rollout) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.partial = append(r.partial, p...)
	for {
		i := bytes.IndexAny(r.partial, "\n\r")
		if i < 0 {
			break
		}
		if i > 0 {
			r.lines = append(r.lines, string(r.partial[:i]))
		}
		r.partial = r.partial[i+1:]
	}
	if len(r.lines) > maxOutput {
		r.lines = append([]string(nil), r.lines[len(r.lines)-maxOutput:]...)
	}
	return len(p), nil
}

// Output returns the rollout's output so far, a line each (the last 500).
func (r *Rollout) Output() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// Done is closed when the rollout has ended (done, failed or stopped).
func (r *Rollout) Done() <-chan struct{} { return r.done }

// Running reports whether the rollout has not ended yet.
func (r *Rollout) Running() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// Result is the rollout's record and error once it has ended: nil error
// when every wave applied, context.Canceled when it was stopped (the
// record stays running, to be resumed), rollout.ErrWaveFailed when a wave
// failed and was rolled back.
func (r *Rollout) Result() (*rollout.Record, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rec, r.err
}

// Rollout returns this server's running or last rollout (nil: none yet).
func (a *Actions) Rollout() *Rollout {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.current
}

// StartRollout loads the fleet directory root (the server's own, never a
// path a request names) and starts rolling it out in the background, as
// `nodekeeper-fleet apply` does (without aggregation policies: apply runs
// them). A directory with problems, a rollout running here, or one
// running elsewhere by the retained record (unless o.Resume or
// o.TakeOver) is refused at once.
func (a *Actions) StartRollout(ctx context.Context, user, root string, o RolloutOptions) (*Rollout, error) {
	if o.Canary < 0 || (o.Growth != 0 && o.Growth < 1) || o.MaxFailed < 0 || o.MaxFailed >= 1 {
		return nil, errors.New("rollout: canary >= 1, growth >= 1, 0 <= max failed < 100%")
	}
	f, err := dir.Load(root, dir.Options{CheckPolicies: a.cfg.CheckPolicies})
	if err != nil {
		return nil, fmt.Errorf("fleet directory %s refused:\n%w", root, err)
	}
	_, rec, err := a.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.current != nil && a.current.Running() {
		return nil, fmt.Errorf("%w (started here by %s at %s): stop it first", ErrRolloutRunning, a.current.Who, a.current.Started.Format(time.RFC3339))
	}
	if rec != nil && rec.State == rollout.Running && !o.Resume && !o.TakeOver {
		return nil, fmt.Errorf("%w (record %s by %s, started %s): resume it or take it over", ErrRolloutRunning, rec.ID, rec.Who, rec.Started.Format(time.RFC3339))
	}
	rctx, cancel := context.WithCancel(context.Background())
	r := &Rollout{Dir: root, Who: a.who(user), Started: time.Now().UTC(), cancel: cancel, done: make(chan struct{})}
	keys := a.cfg.Keys
	ro := rollout.Options{Key: keys[0], CoSigners: keys[1:], Trusted: a.cfg.Trusted, Who: r.Who,
		Canary: o.Canary, Growth: o.Growth, Soak: o.Soak, MaxFailed: o.MaxFailed, WaveTimeout: o.WaveTimeout,
		Quiet: a.cfg.Quiet, Resume: o.Resume, TakeOver: o.TakeOver, Out: r, Verifier: inventory.NewVerifier(a.trusted, a.cfg.Enrolled)}
	a.current = r
	a.cfg.Log.Info("web action: rollout started", "user", user, "dir", root)
	go func() {
		defer close(r.done)
		defer cancel()
		rec, err := rollout.Apply(rctx, a.cfg.Conn, f, ro)
		r.mu.Lock()
		r.rec, r.err = rec, err
		r.mu.Unlock()
		switch {
		case err == nil:
			a.cfg.Log.Info("web action: rollout done", "user", user, "dir", root)
		case errors.Is(err, context.Canceled):
			a.cfg.Log.Info("web action: rollout stopped; its record stays running, to be resumed", "dir", root)
		default:
			a.cfg.Log.Warn("web action: rollout ended", "user", user, "dir", root, "err", err)
		}
	}()
	return r, nil
}

// StopRollout stops this server's running rollout and waits (at most
// until ctx is done) for it to save its record: the record stays
// running, noted interrupted, and a rollout with Resume continues it.
// The nodes of the wave in progress keep what they were sent.
func (a *Actions) StopRollout(ctx context.Context, user string) error {
	r := a.Rollout()
	if r == nil || !r.Running() {
		return ErrNoRollout
	}
	a.cfg.Log.Info("web action: stopping the rollout", "user", user, "dir", r.Dir)
	r.cancel()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("rollout of %s: still saving its record: %w", r.Dir, ctx.Err())
	}
}

// Close stops a running rollout (the server is shutting down).
func (a *Actions) Close(ctx context.Context) error {
	if err := a.StopRollout(ctx, "(shutdown)"); err != nil && !errors.Is(err, ErrNoRollout) {
		return err
	}
	return nil
}
