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
// k-1..1 are undone in reverse order and the error (an *ApplyError) names
// the step and the kernel's answer.
func (m *Manager) Apply(ctx context.Context, p *Plan) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.apply(ctx, p)
}

func (m *Manager) apply(ctx context.Context, p *Plan) error {
	x := &executor{m: m}
	for i, s := range p.Steps {
		err := ctx.Err()
		if err == nil && m.failStep != nil {
			err = m.failStep(i, s)
		}
		if err == nil {
			err = x.run(s.act)
		}
		if err == nil {
			continue
		}
		ae := &ApplyError{Step: i + 1, Steps: len(p.Steps), What: s.String(), Err: err}
		m.log.Warn("step failed, rolling back", "step", ae.Step, "of", ae.Steps, "what", ae.What, "err", err)
		for j := i - 1; j >= 0; j-- {
			if uerr := x.run(p.Steps[j].act.inverse()); uerr != nil {
				ae.Undo = append(ae.Undo, fmt.Errorf("undo step %d (%s): %w", j+1, p.Steps[j], uerr))
			}
		}
		return ae
	}
	if len(p.Steps) > 0 {
		m.log.Info("applied", "steps", len(p.Steps))
	}
	return nil
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
		return s + "; the steps before it were undone"
	}
	s += fmt.Sprintf("; %d undo step(s) failed:", len(e.Undo))
	for _, u := range e.Undo {
		s += " " + u.Error() + ";"
	}
	return s
}

func (e *ApplyError) Unwrap() error { return e.Err }

// executor runs actions, keeping link indexes it has looked up.
type executor struct {
	m   *Manager
	idx map[string]int
}

// index returns a link's index, reading all links again when it does not
// know the name (once after a batch of creations, rather than per link).
func (x *executor) index(name string) (int, error) {
	if i, ok := x.idx[name]; ok {
		return i, nil
	}
	links, err := x.m.h.LinkList()
	if err != nil {
		return 0, fmt.Errorf("list links: %w", err)
	}
	x.idx = make(map[string]int, len(links))
	for _, l := range links {
		x.idx[l.Attrs().Name] = l.Attrs().Index
	}
	if i, ok := x.idx[name]; ok {
		return i, nil
	}
	return 0, fmt.Errorf("link %s not found", name)
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
		return m.newLink(a.link, a.index, a.peerIndex, x.index)
	case opLinkDelete:
		x.forget(a.link)
		return m.delLink(a.link.Name)
	case opLinkSet:
		var c linkChange
		switch a.attr {
		case "mtu":
			n, err := strconv.Atoi(a.to)
			if err != nil {
				return fmt.Errorf("mtu %q: %w", a.to, err)
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
		return m.setLink(a.name, c, x.index)
	case opAddrAdd, opAddrDel:
		i, err := x.index(a.name)
		if err != nil {
			return err
		}
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: a.addr.Addr().AsSlice(), Mask: net.CIDRMask(a.addr.Bits(), a.addr.Addr().BitLen())}, LinkIndex: i}
		if a.addr.Addr().Is6() {
			// No duplicate address detection: the address is usable at
			// once, and a rollback puts back exactly what was there.
			addr.Flags = unix.IFA_F_NODAD
		}
		if a.op == opAddrAdd {
			return m.h.AddrAdd(nil, addr)
		}
		return m.h.AddrDel(nil, addr)
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
