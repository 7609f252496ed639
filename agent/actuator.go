package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/policy"
)

// actuator performs the policies' actions on the slivers, the network and
// UCI (policy.Actuator). UCI packages were checked against the allow-list
// by the engine already.
type actuator struct{ a *Agent }

// Act implements policy.Actuator.
func (x actuator) Act(ctx context.Context, act policy.Action) error {
	a := x.a
	if act.Op == policy.OpAlert {
		return a.alert(act.Policy, act.Level, act.Message)
	}
	st := a.nodeState()
	if st == Failure {
		return errors.New("the node is in the failure state: policies do not act")
	}
	switch act.Op {
	case policy.OpSliverStart, policy.OpSliverStop, policy.OpSliverLimit:
		if a.slivers == nil {
			return a.sliversErr
		}
	}
	switch act.Op {
	case policy.OpSliverStart:
		if capRequest(container.Start, st) != container.Start {
			return fmt.Errorf("sliver %s: %w (%s)", act.Sliver, errNodeState, st)
		}
		_, err := a.slivers.SetRequest(ctx, act.Sliver, container.Start)
		return err
	case policy.OpSliverStop:
		_, err := a.slivers.SetRequest(ctx, act.Sliver, container.Deploy)
		return err
	case policy.OpSliverLimit:
		r := container.Resources{MemoryBytes: act.MemoryBytes, CPUMillicores: int(act.CPU * 1000), Pids: int(act.Pids)}
		if act.CPU > 0 && r.CPUMillicores == 0 {
			r.CPUMillicores = 1
		}
		if err := a.slivers.SetLimits(ctx, act.Sliver, r); err != nil {
			return err
		}
		a.mu.Lock()
		l := a.limits[act.Sliver]
		if r.MemoryBytes > 0 {
			l.MemoryBytes = r.MemoryBytes
		}
		if r.CPUMillicores > 0 {
			l.CPUMillicores = r.CPUMillicores
		}
		if r.Pids > 0 {
			l.Pids = r.Pids
		}
		a.limits[act.Sliver] = l
		a.mu.Unlock()
		a.markDirty()
		return nil
	case policy.OpIfaceUp, policy.OpIfaceDown:
		return a.setIface(ctx, act.Iface, act.Op == policy.OpIfaceDown)
	case policy.OpUCISet:
		p, err := a.writer.Load(act.Package)
		if err != nil {
			return err
		}
		if err := p.Set(act.Section, act.Option, act.Value); err != nil {
			return err
		}
		return p.Save()
	case policy.OpUCICommit:
		p, err := a.writer.Load(act.Package)
		if err != nil {
			return err
		}
		return p.Commit()
	}
	return fmt.Errorf("action %s: not supported", act.Op)
}

// UCIGet implements policy.Actuator: the committed value.
func (x actuator) UCIGet(_ context.Context, pkg, section, option string) (string, bool, error) {
	p, err := x.a.cursor.LoadCommitted(pkg)
	if err != nil {
		return "", false, err
	}
	s := p.Section(section)
	if s == nil {
		return "", false, nil
	}
	v, ok := s.Get(option)
	return v, ok, nil
}
