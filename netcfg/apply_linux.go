package netcfg

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Apply carries out a plan as a transaction: when step k fails, steps
// k-1..1 are undone in reverse order, and so are the steps after k that the
// kernel did in the same batch (see wave_linux.go); the error (an
// *ApplyError) names the step and the kernel's answer.
func (m *Manager) Apply(ctx context.Context, p *Plan) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.apply(ctx, p)
}

func (m *Manager) apply(ctx context.Context, p *Plan) error {
	x := &executor{m: m}
	k, err := x.runSteps(ctx, p.Steps)
	if err == nil {
		if len(p.Steps) > 0 {
			m.log.Info("applied", "steps", len(p.Steps))
		}
		return nil
	}
	ae := &ApplyError{Step: k + 1, Steps: len(p.Steps), What: p.Steps[k].String(), Err: err}
	m.log.Warn("step failed, rolling back", "step", ae.Step, "of", ae.Steps, "what", ae.What, "err", err)
	undone := 0
	for j := len(p.Steps) - 1; j >= 0; j-- {
		if !x.done[j] {
			continue
		}
		undone++
		if uerr := x.run(p.Steps[j].act.inverse()); uerr != nil {
			ae.Undo = append(ae.Undo, fmt.Errorf("undo step %d (%s): %w", j+1, p.Steps[j], uerr))
		}
	}
	m.log.Info("rolled back", "undone", undone, "undo failed", len(ae.Undo))
	return ae
}

// ApplyError is a failed Apply: which step failed, why, and what could not
// be undone (nothing, normally).
type ApplyError struct {
	Step, Steps int // 1-based number of the failed step, of Steps
	What        string
	Err         error   // the kernel's answer
	Undo        []error // steps whose undo failed
}

func (e *ApplyError) Error() string {
	s := fmt.Sprintf("netcfg: step %d of %d (%s) failed: %v", e.Step, e.Steps, e.What, e.Err)
	if len(e.Undo) == 0 {
		return s + "; the steps done were undone"
	}
	s += fmt.Sprintf("; %d undo step(s) failed:", len(e.Undo))
	for _, u := range e.Undo {
		s += " " + u.Error() + ";"
	}
	return s
}

func (e *ApplyError) Unwrap() error { return e.Err }

// executor runs a plan's steps, keeping the indexes of links by name.
type executor struct {
	m    *Manager
	idx  map[string]int
	next int    // the index to give the next link netcfg creates
	done []bool // steps that changed the kernel (to undo on failure)

	// The wave being built: requests to send together, and the links
	// its steps make or delete and refer to.
	wave       []call
	made, refs map[string]bool
	followUps  []call // for the next wave: requests on links made in this one
}

// index returns a link's index, reading all links again when it does not
// know the name.
func (x *executor) index(name string) (int, error) {
	if i, ok := x.idx[name]; ok {
		return i, nil
	}
	if err := x.load(); err != nil {
		return 0, err
	}
	if i, ok := x.idx[name]; ok {
		return i, nil
	}
	return 0, fmt.Errorf("link %s not found", name)
}

// load reads the indexes of all links.
func (x *executor) load() error {
	ids, err := x.m.linkIDs()
	if err != nil {
		return fmt.Errorf("list links: %w", err)
	}
	x.idx = make(map[string]int, len(ids))
	for name, id := range ids {
		x.idx[name] = id.index
		x.next = max(x.next, id.index+1)
	}
	return nil
}

// newIndex picks the index of a link netcfg creates, so that the requests
// on it can be built before the kernel's answer: one past the highest
// index in use. Should another program take it meanwhile, the creation is
// tried again with the kernel picking.
func (x *executor) newIndex() (int, error) {
	if x.idx == nil {
		if err := x.load(); err != nil {
			return 0, err
		}
	}
	x.next++
	return x.next - 1, nil
}

func (x *executor) forget(l *Link) {
	delete(x.idx, l.Name)
	if l.Peer != nil {
		delete(x.idx, l.Peer.Name)
	}
}

func (x *executor) run(a action) error {
	m := x.m
	switch a.op {
	case opLinkCreate:
		x.forget(a.link)
		return m.newLink(a, x.index)
	case opLinkDelete:
		x.forget(a.link)
		return m.delLink(a.link.Name)
	case opLinkSet:
		c, err := linkChangeOf(a)
		if err != nil {
			return err
		}
		return m.setLink(a.name, c, x.index)
	case opAddrAdd, opAddrDel:
		i, err := x.index(a.name)
		if err != nil {
			return err
		}
		return m.rtnl(addrReq(a.op == opAddrAdd, i, a.addr))
	case opRouteAdd, opRouteDel, opRouteReplace:
		r, err := x.route(a.route)
		if err != nil {
			return err
		}
		switch a.op {
		case opRouteAdd:
			return m.h.RouteAdd(r)
		case opRouteDel:
			return m.h.RouteDel(r)
		}
		return m.h.RouteReplace(r)
	case opShaping:
		i, err := x.index(a.name)
		if err != nil {
			return err
		}
		return m.setShaping(i, a.shaping, a.oldShaping)
	case opFirewall:
		return m.writeFirewall(a.fw)
	}
	return fmt.Errorf("unknown action %d", a.op)
}

func (x *executor) route(r Route) (*netlink.Route, error) {
	n := r.norm()
	out := &netlink.Route{
		Dst:      &net.IPNet{IP: n.Dst.Addr().AsSlice(), Mask: net.CIDRMask(n.Dst.Bits(), n.Dst.Addr().BitLen())},
		Priority: n.Metric, Table: n.Table, Protocol: RouteProtocol,
	}
	if n.Via.IsValid() {
		out.Gw = n.Via.AsSlice()
	}
	if n.Src.IsValid() {
		out.Src = n.Src.AsSlice()
	}
	if n.Dev != "" {
		i, err := x.index(n.Dev)
		if err != nil {
			return nil, err
		}
		out.LinkIndex = i
	}
	if n.Dst.Addr().Is4() {
		out.Family = unix.AF_INET
		if !n.Via.IsValid() {
			out.Scope = netlink.SCOPE_LINK
		}
	} else {
		out.Family = unix.AF_INET6
	}
	return out, nil
}

// linkChangeOf is the change an opLinkSet action makes.
func linkChangeOf(a action) (linkChange, error) {
	var c linkChange
	switch a.attr {
	case "mtu":
		n, err := strconv.Atoi(a.to)
		if err != nil {
			return c, fmt.Errorf("mtu %q: %w", a.to, err)
		}
		c.mtu = &n
	case "mac":
		c.mac = &a.to
	case "master":
		c.master = &a.to
	case "up":
		up := a.to == "true"
		c.up = &up
	}
	return c, nil
}
