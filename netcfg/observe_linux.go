package netcfg

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// snapshot reads links, addresses, netcfg's routes, root qdiscs and
// netcfg's firewall tables from the kernel.
func (m *Manager) snapshot(ctx context.Context) (*snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	links, err := m.h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("netcfg: list links: %w", err)
	}
	s := &snapshot{links: map[string]*obsLink{}}
	byIndex := map[int]*obsLink{}
	for _, l := range links {
		o := observeLink(l)
		s.links[o.Name] = o
		byIndex[o.index] = o
	}
	name := func(i int) string {
		if o := byIndex[i]; o != nil {
			return o.Name
		}
		return ""
	}
	for _, l := range links {
		a := l.Attrs()
		o := byIndex[a.Index]
		o.Master = name(a.MasterIndex)
		switch v := l.(type) {
		case *netlink.Veth:
			if a.NetNsID < 0 && byIndex[a.ParentIndex] != nil {
				o.peerIndex = a.ParentIndex
				if o.owned {
					byIndex[a.ParentIndex].peerOf = o.Name
				}
			}
		case *netlink.Vxlan:
			o.VXLAN.Dev = name(v.VtepDevIndex)
			o.lower = o.VXLAN.Dev
		case *netlink.Vlan:
			o.VLAN.Parent = name(a.ParentIndex)
			o.lower = o.VLAN.Parent
		case *netlink.Macvlan:
			o.Macvlan.Parent = name(a.ParentIndex)
			o.lower = o.Macvlan.Parent
		}
	}
	// The library does not read queue counts.
	ids, err := m.linkIDs()
	if err != nil {
		return nil, fmt.Errorf("netcfg: list links: %w", err)
	}
	for name, id := range ids {
		if o := s.links[name]; o != nil && o.index == id.index {
			o.oneQueue = id.oneQueue
		}
	}
	for _, o := range s.links {
		if o.Kind == Veth && o.owned && o.peerIndex == 0 {
			o.Peer = &VethPeer{Elsewhere: true}
		}
	}

	addrs, err := m.h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("netcfg: list addresses: %w", err)
	}
	for _, a := range addrs {
		o := byIndex[a.LinkIndex]
		if o == nil || a.Flags&unix.IFA_F_PERMANENT == 0 {
			continue
		}
		p, ok := prefixOf(a.IPNet)
		if !ok || (p.Addr().Is6() && p.Addr().IsLinkLocalUnicast()) {
			continue
		}
		o.Addrs = append(o.Addrs, p)
	}

	routes, err := m.h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Protocol: RouteProtocol, Table: unix.RT_TABLE_UNSPEC},
		netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("netcfg: list routes: %w", err)
	}
	for _, r := range routes {
		s.routes = append(s.routes, observeRoute(r, name))
	}

	qdiscs, err := m.h.QdiscList(nil)
	if err != nil {
		return nil, fmt.Errorf("netcfg: list qdiscs: %w", err)
	}
	for _, q := range qdiscs {
		a := q.Attrs()
		o := byIndex[a.LinkIndex]
		if o == nil || a.Parent != netlink.HANDLE_ROOT || a.Handle != shapingHandle {
			continue
		}
		sh, err := m.readShaping(q)
		if err != nil {
			return nil, fmt.Errorf("netcfg: read shaping of %s: %w", o.Name, err)
		}
		o.Shaping = sh
	}

	fw, err := m.readFirewall()
	if err != nil {
		return nil, err
	}
	s.fw = fw
	return s, nil
}

func observeLink(l netlink.Link) *obsLink {
	a := l.Attrs()
	o := &obsLink{
		Link:  Link{Name: a.Name, Kind: Kind(l.Type()), MTU: a.MTU, Down: a.Flags&net.FlagUp == 0},
		index: a.Index, owned: a.Group == OwnerGroup,
	}
	if len(a.HardwareAddr) == 6 {
		o.MAC = a.HardwareAddr.String()
	}
	switch v := l.(type) {
	case *netlink.Tuntap:
		o.Kind = "tun"
		if v.Mode == netlink.TUNTAP_MODE_TAP {
			o.Kind = Tap
		}
	case *netlink.Vxlan:
		x := &VXLANOpts{VNI: v.VxlanId, Port: v.Port, TTL: v.TTL, Local: addrOf(v.SrcAddr)}
		if g := addrOf(v.Group); g.IsMulticast() {
			x.Group = g
		} else {
			x.Remote = g
		}
		o.VXLAN = x
	case *netlink.Vlan:
		o.VLAN = &VLANOpts{ID: v.VlanId}
	case *netlink.Macvlan:
		o.Macvlan = &MacvlanOpts{Mode: macvlanModeName[v.Mode]}
	case *netlink.Gretun:
		o.GRE = &GREOpts{Local: addrOf(v.Local), Remote: addrOf(v.Remote), TTL: int(v.Ttl)}
	}
	return o
}

var macvlanModeName = map[netlink.MacvlanMode]string{
	netlink.MACVLAN_MODE_PRIVATE: "private", netlink.MACVLAN_MODE_VEPA: "vepa",
	netlink.MACVLAN_MODE_BRIDGE: "bridge", netlink.MACVLAN_MODE_PASSTHRU: "passthru",
	netlink.MACVLAN_MODE_SOURCE: "source",
}

func addrOf(ip net.IP) netip.Addr {
	if ip == nil || ip.IsUnspecified() {
		return netip.Addr{}
	}
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}
	}
	return a.Unmap()
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a := addrOf(n.IP)
	ones, _ := n.Mask.Size()
	if !a.IsValid() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, ones), true
}

func observeRoute(r netlink.Route, name func(int) string) Route {
	out := Route{Via: addrOf(r.Gw), Src: addrOf(r.Src), Dev: name(r.LinkIndex), Metric: r.Priority, Table: r.Table}
	if out.Table == unix.RT_TABLE_MAIN {
		out.Table = 0
	}
	if p, ok := prefixOf(r.Dst); ok {
		out.Dst = p.Masked()
	} else if r.Family == unix.AF_INET6 {
		out.Dst = netip.MustParsePrefix("::/0")
	} else {
		out.Dst = netip.MustParsePrefix("0.0.0.0/0")
	}
	return out
}

// latencyOf computes a tbf's queue latency from its limit, as tc does.
func latencyOf(rate uint64, limit, burst uint32) time.Duration {
	if rate == 0 || limit <= burst {
		return 0
	}
	return time.Duration(float64(limit-burst) / float64(rate) * float64(time.Second))
}
