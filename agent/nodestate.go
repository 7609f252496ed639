package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/wire"
)

// nodeHealth counts internal errors (a network apply that fails, state
// that cannot be saved, a rollback that cannot undo) and says when there
// were too many: threshold within window puts the node in failure.
type nodeHealth struct {
	threshold int
	window    time.Duration
	times     []time.Time
	failed    bool
	reason    string
}

// record counts an error at now and reports whether this one put the node
// in failure.
func (h *nodeHealth) record(now time.Time, what string) bool {
	keep := h.times[:0]
	for _, t := range h.times {
		if now.Sub(t) < h.window {
			keep = append(keep, t)
		}
	}
	h.times = append(keep, now)
	if h.failed || len(h.times) < h.threshold {
		return false
	}
	h.failed, h.reason = true, what
	return true
}

// reset leaves failure: the admin reloaded the config or a document applied.
func (h *nodeHealth) reset() {
	h.times, h.failed, h.reason = nil, false, ""
}

// requestRank orders the requested states.
func requestRank(r container.Request) int {
	switch r {
	case container.Start:
		return 2
	case container.Deploy:
		return 1
	}
	return 0
}

// stateCap is the highest request a node state lets slivers have.
func stateCap(s NodeState) container.Request {
	switch s {
	case Production:
		return container.Start
	case Debug:
		return container.Register
	}
	return container.Deploy // safe, failure
}

// capRequest lowers r to what state allows.
func capRequest(r container.Request, s NodeState) container.Request {
	if c := stateCap(s); requestRank(r) > requestRank(c) {
		return c
	}
	return r
}

// errNodeState is returned for sliver requests the node state forbids.
var errNodeState = errors.New("the node state keeps slivers down")

// nodeState is the state in force.
func (a *Agent) nodeState() NodeState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.nodeStateLocked()
}

func (a *Agent) nodeStateLocked() NodeState {
	if a.health.failed {
		return Failure
	}
	return a.cfg.Agent.NodeState
}

// internalError records an error of the agent itself; too many put the
// node in failure.
func (a *Agent) internalError(member string, err error) {
	a.log.Error("internal error", "member", member, "err", err)
	a.addError(member, 0, err.Error())
	a.mu.Lock()
	entered := a.health.record(time.Now(), member+": "+err.Error())
	a.mu.Unlock()
	if entered {
		a.log.Error("node enters the failure state: too many internal errors", "threshold", a.health.threshold, "window", a.health.window)
		a.addError("node", 0, "failure state: too many internal errors, last: "+member+": "+err.Error())
		go func() {
			a.applyMu.Lock()
			defer a.applyMu.Unlock()
			a.enforceNodeState(context.Background())
		}()
	}
	a.markDirty()
}

// leaveFailure resets the count of internal errors (a document applied):
// a node in the failure state leaves it. The caller holds applyMu.
func (a *Agent) leaveFailure(ctx context.Context, why string) {
	if a.resetHealth() {
		a.leftFailure(ctx, why)
	}
}

// resetHealth resets the count of internal errors and tells whether the
// node was in the failure state.
func (a *Agent) resetHealth() (wasFailed bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	wasFailed = a.health.failed
	a.health.reset()
	return wasFailed
}

// leftFailure follows a node out of the failure state, unless it entered
// it again meanwhile: it says so (log, and its `node` error clears) and
// gives the slivers their held requests back. The caller holds applyMu.
func (a *Agent) leftFailure(ctx context.Context, why string) {
	if st := a.nodeState(); st != Failure {
		a.log.Info("node leaves the failure state: "+why, "state", st)
		a.clearErrors(func(e *wire.ErrorEntry) bool { return e.Kind == "node" })
		a.enforceNodeState(ctx)
	}
}

// enforceNodeState brings every sliver's request within what the node
// state allows, remembering the request it had (Held), and gives held
// requests back when the state allows them again. The caller holds
// applyMu.
func (a *Agent) enforceNodeState(ctx context.Context) {
	if a.slivers == nil {
		return
	}
	st := a.nodeState()
	a.mu.Lock()
	held := cloneHeld(a.remote.Held)
	a.mu.Unlock()
	changed := false
	for _, s := range a.slivers.Slivers() {
		want := s.Request
		if h, ok := held[s.Name]; ok {
			want = h
		}
		got := capRequest(want, st)
		if got == want {
			if _, ok := held[s.Name]; ok {
				delete(held, s.Name)
				changed = true
			}
		} else if held[s.Name] != want {
			held[s.Name] = want
			changed = true
		}
		if got != s.Request {
			a.log.Info("node state moves a sliver", "sliver", s.Name, "state", st, "request", got, "wanted", want)
			if _, err := a.slivers.SetRequest(ctx, s.Name, got); err != nil && requestRank(got) < requestRank(s.Request) {
				// Its own kind: the sliver may well be where its (old)
				// request asks, which would clear a `sliver` error.
				a.log.Warn("the node state cannot move a sliver down", "sliver", s.Name, "state", st, "request", got, "err", oneLine(err))
				a.addError(wire.KindNodeState+" "+s.Name, 0, fmt.Sprintf("node state %s: cannot move the sliver down to %s: %v", st, got, err))
			} else if err != nil {
				a.log.Warn("sliver request", "sliver", s.Name, "err", err)
			}
		}
	}
	for n := range held {
		if _, err := a.slivers.Get(n); err != nil {
			delete(held, n)
			changed = true
		}
	}
	if changed {
		a.mu.Lock()
		a.remote.Held = held
		rs := a.remote
		a.mu.Unlock()
		if err := a.saveRemote(rs); err != nil {
			a.internalError("state", err)
		}
	}
	a.markDirty()
}

func cloneHeld(h map[string]container.Request) map[string]container.Request {
	out := make(map[string]container.Request, len(h))
	for k, v := range h {
		out[k] = v
	}
	return out
}

// convergeAll moves every sliver towards its request.
func (a *Agent) convergeAll(ctx context.Context) {
	if a.slivers == nil {
		return
	}
	if err := a.slivers.ConvergeAll(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("slivers did not all converge", "err", oneLine(err))
	}
	a.markDirty()
}
