package netcfg

import (
	"fmt"
	"math"

	"github.com/vishvananda/netlink"
)

// shapingHandle is the handle of the root qdisc netcfg puts on a link (1:);
// a root qdisc with another handle is not netcfg's.
var (
	shapingHandle = netlink.MakeHandle(1, 0)
	htbClass      = netlink.MakeHandle(1, 1)
)

func (m *Manager) readShaping(q netlink.Qdisc) (*Shaping, error) {
	switch v := q.(type) {
	case *netlink.Tbf:
		burst := netlink.Xmitsize(v.Rate, v.Buffer)
		return &Shaping{Qdisc: "tbf", Rate: v.Rate * 8, Burst: burst, Latency: latencyOf(v.Rate, v.Limit, burst)}, nil
	case *netlink.Htb:
		classes, err := m.h.ClassList(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Index: v.LinkIndex}}, shapingHandle)
		if err != nil {
			return nil, err
		}
		for _, c := range classes {
			if hc, ok := c.(*netlink.HtbClass); ok && hc.Handle == htbClass {
				return &Shaping{Qdisc: "htb", Rate: hc.Rate * 8, Burst: netlink.Xmitsize(hc.Rate, hc.Buffer)}, nil
			}
		}
		// An htb without netcfg's class: shaping nothing yet.
		return &Shaping{Qdisc: "htb"}, nil
	}
	return nil, nil
}

func qdiscOf(index int, s *Shaping) netlink.Qdisc {
	attrs := netlink.QdiscAttrs{LinkIndex: index, Handle: shapingHandle, Parent: netlink.HANDLE_ROOT}
	if s.Qdisc == "htb" {
		q := netlink.NewHtb(attrs)
		q.Defcls = 1
		return q
	}
	rate := s.Rate / 8
	burst := s.burst()
	limit := float64(rate)*s.latency().Seconds() + float64(burst)
	return &netlink.Tbf{QdiscAttrs: attrs, Rate: rate, Buffer: netlink.Xmittime(rate, burst),
		Limit: uint32(math.Min(limit, math.MaxUint32))}
}

// setShaping puts s on the link (nil restores the kernel's default qdisc);
// old is what netcfg had there.
func (m *Manager) setShaping(index int, s, old *Shaping) error {
	if old != nil && (s == nil || s.Qdisc != old.Qdisc) {
		if err := m.h.QdiscDel(qdiscOf(index, old)); err != nil {
			return fmt.Errorf("delete %s qdisc: %w", old.Qdisc, err)
		}
	}
	if s == nil {
		return nil
	}
	if err := m.h.QdiscReplace(qdiscOf(index, s)); err != nil {
		return fmt.Errorf("%s qdisc: %w", s.Qdisc, err)
	}
	if s.Qdisc == "htb" {
		c := netlink.NewHtbClass(netlink.ClassAttrs{LinkIndex: index, Parent: shapingHandle, Handle: htbClass},
			netlink.HtbClassAttrs{Rate: s.Rate, Ceil: s.Rate, Buffer: s.burst(), Cbuffer: s.burst()})
		if err := m.h.ClassReplace(c); err != nil {
			return fmt.Errorf("htb class: %w", err)
		}
	}
	return nil
}
