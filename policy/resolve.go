package policy

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// resolve turns a round's results into decisions: it updates each policy's
// state, hold, cooldown and failure count, settles conflicts (two policies
// acting on the same sliver, interface or UCI option: the higher priority
// wins, the loser's action is logged as overridden), performs the actions
// and returns the decision log entries.
func (e *Engine) resolve(ctx context.Context, now time.Time, ps []*rtPolicy, results []evalResult, gate bool, trigger string) []Decision {
	var decisions []Decision
	type fired struct {
		p *rtPolicy
		d *Decision
	}
	var firing []fired
	for i, p := range ps {
		r := &results[i]
		if r.StateSet {
			p.state = r.State
		}
		d := Decision{Time: now, Policy: p.meta.Name, Source: p.source(), Inputs: r.Inputs, Values: inputValues(r.Inputs, r.Values), Logs: r.Logs,
			DryRun: e.cfg.DryRun || p.meta.DryRun}
		if p.meta.On != "" {
			d.Trigger = trigger + p.meta.On
		} else {
			d.Trigger = trigger + time.Duration(p.meta.Every).String()
		}
		if r.Err != "" {
			d.Error = r.Err
			e.fail(p, now, &d)
			decisions = append(decisions, d)
			continue
		}
		if p.fails > 0 || !p.quarantinedUntil.IsZero() {
			if !p.quarantinedUntil.IsZero() {
				e.log.Info("policy released from quarantine", "policy", p.meta.Name)
			}
			p.fails, p.backoff, p.quarantinedUntil = 0, 0, time.Time{}
		}
		p.observe(now, r.When, r.Fired && len(r.Actions) > 0, gate)
		if !r.Fired {
			for _, l := range r.Logs {
				e.log.Debug("policy log", "policy", p.meta.Name, "line", l)
			}
			continue
		}
		d.Fired = true
		for _, a := range r.Actions {
			d.Actions = append(d.Actions, ActionResult{Action: a})
		}
		decisions = append(decisions, d)
	}
	for i := range decisions {
		if decisions[i].Fired {
			firing = append(firing, fired{e.policies[decisions[i].Policy], &decisions[i]})
		}
	}
	sort.SliceStable(firing, func(i, j int) bool {
		a, b := firing[i].p.meta, firing[j].p.meta
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		return a.Name < b.Name
	})
	owner := map[string]*rtPolicy{}
	for _, f := range firing {
		for k := range f.d.Actions {
			ar := &f.d.Actions[k]
			if problem := e.check(f.p, ar.Action); problem != "" {
				ar.Result, ar.Detail = ResultFailed, problem
				continue
			}
			if res := ar.resource(); res != "" {
				if o, ok := owner[res]; ok && o != f.p {
					ar.Result, ar.Detail = ResultOverridden, fmt.Sprintf("by %s (priority %d) acting on %s", o.meta.Name, o.meta.Priority, res)
					e.log.Info("policy action overridden", "policy", f.p.meta.Name, "action", ar.Action.String(), "by", o.meta.Name)
					continue
				}
				owner[res] = f.p
			}
			switch {
			case f.d.DryRun || e.cfg.Actuator == nil:
				ar.Result = ResultDryRun
			case ar.Op == OpRefuse:
				ar.Result = ResultRefused
			default:
				act := ar.Action
				act.Policy = f.p.meta.Name
				if err := e.cfg.Actuator.Act(ctx, act); err != nil {
					ar.Result, ar.Detail = ResultFailed, err.Error()
					e.log.Warn("policy action failed", "policy", f.p.meta.Name, "action", ar.Action.String(), "error", err)
				} else {
					ar.Result = ResultDone
				}
			}
		}
		e.log.Info("policy fired", "policy", f.p.meta.Name, "actions", len(f.d.Actions), "dry_run", f.d.DryRun)
	}
	return decisions
}

// check validates an action the worker reported: the worker runs
// untrusted code, so the engine does not take its word for the allow-list.
// Every field is held to the grammar the Lua API enforces (luaapi.go), so a
// worker that lies gets no further than an honest one.
func (e *Engine) check(p *rtPolicy, a Action) string {
	switch a.Op {
	case OpSliverStart, OpSliverStop, OpSliverLimit:
		if !validActionName(a.Sliver) {
			return "no valid sliver named"
		}
		if a.Op == OpSliverLimit {
			if problem := checkLimits(a.CPU, a.MemoryBytes, a.Pids); problem != "" {
				return problem
			}
		}
	case OpIfaceUp, OpIfaceDown:
		if !validActionName(a.Iface) {
			return "no valid interface named"
		}
	case OpUCISet, OpUCICommit:
		if !allowed(e.cfg.UCIAllow, a.Package) {
			return fmt.Sprintf("UCI package %q is not allow-listed", truncate(a.Package, 64))
		}
		if len(a.Section) > maxNameLen || len(a.Option) > maxNameLen || len(a.Value) > maxUCIValue {
			return "UCI section, option or value too long"
		}
	case OpAlert:
		if !alertLevels[a.Level] || len(a.Message) > maxMessage {
			return "alert level or message out of bounds"
		}
	case OpRefuse:
		if len(a.Message) > maxMessage {
			return "refusal message too long"
		}
		if p.meta.On != EventAdmit {
			return "refuse outside an admission policy"
		}
	default:
		return fmt.Sprintf("unknown action %q", truncate(a.Op, 32))
	}
	return ""
}

// fail counts a failure and quarantines the policy after
// QuarantineAfter consecutive ones; each failed retry doubles the back-off.
func (e *Engine) fail(p *rtPolicy, now time.Time, d *Decision) {
	p.fails++
	p.heldSince = time.Time{}
	e.log.Warn("policy failed", "policy", p.meta.Name, "error", d.Error, "consecutive", p.fails)
	if p.fails < e.cfg.QuarantineAfter {
		return
	}
	if p.backoff == 0 {
		p.backoff = e.cfg.QuarantineBackoff
	} else {
		p.backoff = min(2*p.backoff, e.cfg.QuarantineMax)
	}
	p.quarantinedUntil = now.Add(p.backoff)
	until := p.quarantinedUntil
	d.Quarantined = &until
	e.log.Error("policy quarantined", "policy", p.meta.Name, "until", until, "failures", p.fails)
}

// observe updates hold and cooldown after an evaluation. acted is true
// when act ran and asked for an action or raised an alert: an act that
// did nothing starts no cooldown (a sliver started a minute later must
// not escape the policy for the whole cooldown).
func (p *rtPolicy) observe(now time.Time, when, acted, gate bool) {
	if gate {
		if when && p.heldSince.IsZero() {
			p.heldSince = now
		} else if !when {
			p.heldSince = time.Time{}
		}
	}
	if acted {
		p.lastAct = now
	}
}

// Bounds of what an action may carry (luaapi.go checks them in Lua, the
// engine again when the worker reports the action).
const (
	maxLimitCPU    = 1 << 20 / 1000 // cores: container's cap of 1<<20 millicores
	maxLimitMemory = 1 << 62
	maxLimitPids   = 1 << 22 // the kernel's PID_MAX_LIMIT
	maxUCIValue    = 1024
	maxMessage     = 1024 + len("... (truncated)")
)

// validActionName reports whether s can name a sliver or an interface in
// an action: 1 to maxNameLen bytes of printable ASCII but space and '/'.
func validActionName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '/' {
			return false
		}
	}
	return true
}

// checkLimits checks sliver.limit's values: each zero (left as it is) or
// positive, finite and within what a node can have (a float beyond int64
// converts to whatever the CPU gives); at least one set.
func checkLimits(cpu float64, mem, pids int64) string {
	switch {
	case cpu == 0 && mem == 0 && pids == 0:
		return "sliver.limit without a limit"
	case !(cpu >= 0 && cpu <= maxLimitCPU):
		return fmt.Sprintf("sliver.limit: cpu %g out of range 0..%d cores", cpu, maxLimitCPU)
	case mem < 0 || mem > maxLimitMemory:
		return fmt.Sprintf("sliver.limit: memory_bytes %d out of range", mem)
	case pids < 0 || pids > maxLimitPids:
		return fmt.Sprintf("sliver.limit: pids %d out of range 0..%d", pids, maxLimitPids)
	}
	return ""
}

// validPolicyName reports whether s can name a policy: 1 to maxNameLen
// bytes of printable ASCII (spaces too). Names reach logs, events and the
// admin's terminal.
func validPolicyName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}
