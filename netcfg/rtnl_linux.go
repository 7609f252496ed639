package netcfg

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Link requests are built here rather than through netlink.LinkAdd: one
// RTM_NEWLINK carries the link, its master, group mark, MTU, MAC and up
// state, where the library needs a lookup and a second request for the
// master and cannot mark a link as it creates it.

func (m *Manager) rtnl(req *nl.NetlinkRequest) error {
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: m.rt}
	_, err := req.Execute(unix.NETLINK_ROUTE, 0)
	return err
}

var macvlanModes = map[string]uint32{"private": 1, "vepa": 2, "bridge": 4, "passthru": 8}

// newLink creates l with the given indexes (0: the kernel picks);
// index resolves the names l refers to.
func (m *Manager) newLink(l *Link, index, peerIndex int, resolve func(string) (int, error)) error {
	if l.Kind == Tap {
		return m.newTap(l, resolve)
	}
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(index)
	if !l.Down {
		msg.Change, msg.Flags = unix.IFF_UP, unix.IFF_UP
	}
	req.AddData(msg)
	if err := addLinkAttrs(req, l, resolve); err != nil {
		return err
	}
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated(string(l.Kind)))
	var closeNS func()
	switch l.Kind {
	case Veth:
		data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
		peer := data.AddRtAttr(nl.VETH_INFO_PEER, nil)
		pm := nl.NewIfInfomsgChild(peer, unix.AF_UNSPEC)
		pm.Index = int32(peerIndex)
		p := l.Peer
		peer.AddRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(p.Name))
		if p.MTU > 0 {
			peer.AddRtAttr(unix.IFLA_MTU, nl.Uint32Attr(uint32(p.MTU)))
		}
		if p.MAC != "" {
			hw, _ := net.ParseMAC(p.MAC)
			peer.AddRtAttr(unix.IFLA_ADDRESS, hw)
		}
		switch {
		case p.NetNS != "":
			var ns netns.NsHandle
			var err error
			if strings.Contains(p.NetNS, "/") {
				ns, err = netns.GetFromPath(p.NetNS)
			} else {
				ns, err = netns.GetFromName(p.NetNS)
			}
			if err != nil {
				return fmt.Errorf("peer namespace %s: %w", p.NetNS, err)
			}
			closeNS = func() { ns.Close() }
			peer.AddRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(ns)))
		case p.PID != 0:
			peer.AddRtAttr(unix.IFLA_NET_NS_PID, nl.Uint32Attr(uint32(p.PID)))
		}
	case VXLAN:
		v := l.VXLAN.norm()
		data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
		data.AddRtAttr(nl.IFLA_VXLAN_ID, nl.Uint32Attr(uint32(v.VNI)))
		if v.Dev != "" {
			i, err := resolve(v.Dev)
			if err != nil {
				return err
			}
			data.AddRtAttr(nl.IFLA_VXLAN_LINK, nl.Uint32Attr(uint32(i)))
		}
		peerAddr := v.Remote
		if v.Group.IsValid() {
			peerAddr = v.Group
		}
		if peerAddr.IsValid() {
			data.AddRtAttr(pick(peerAddr, nl.IFLA_VXLAN_GROUP, nl.IFLA_VXLAN_GROUP6), peerAddr.AsSlice())
		}
		if v.Local.IsValid() {
			data.AddRtAttr(pick(v.Local, nl.IFLA_VXLAN_LOCAL, nl.IFLA_VXLAN_LOCAL6), v.Local.AsSlice())
		}
		if v.TTL > 0 {
			data.AddRtAttr(nl.IFLA_VXLAN_TTL, nl.Uint8Attr(uint8(v.TTL)))
		}
		data.AddRtAttr(nl.IFLA_VXLAN_PORT, binary.BigEndian.AppendUint16(nil, uint16(v.Port)))
	case VLAN:
		data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
		data.AddRtAttr(nl.IFLA_VLAN_ID, nl.Uint16Attr(uint16(l.VLAN.ID)))
	case Macvlan:
		data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
		data.AddRtAttr(nl.IFLA_MACVLAN_MODE, nl.Uint32Attr(macvlanModes[l.Macvlan.mode()]))
	case GRE:
		g := l.GRE
		data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
		if g.Local.IsValid() {
			data.AddRtAttr(nl.IFLA_GRE_LOCAL, g.Local.AsSlice())
		}
		data.AddRtAttr(nl.IFLA_GRE_REMOTE, g.Remote.AsSlice())
		data.AddRtAttr(nl.IFLA_GRE_TTL, nl.Uint8Attr(uint8(g.TTL)))
		data.AddRtAttr(nl.IFLA_GRE_PMTUDISC, nl.Uint8Attr(1))
	}
	req.AddData(info)
	err := m.rtnl(req)
	if closeNS != nil {
		closeNS()
	}
	if err != nil {
		return err
	}
	if l.Peer.local() && !l.Peer.Down {
		// The kernel refuses to bring a veth's peer up as it creates it.
		up := true
		if err := m.setLink(l.Peer.Name, linkChange{up: &up}, resolve); err != nil {
			return fmt.Errorf("bring peer %s up: %w", l.Peer.Name, err)
		}
	}
	return nil
}

func pick(a netip.Addr, v4, v6 int) int {
	if a.Is4() {
		return v4
	}
	return v6
}

// addLinkAttrs adds the attributes every link takes.
func addLinkAttrs(req *nl.NetlinkRequest, l *Link, resolve func(string) (int, error)) error {
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(l.Name)))
	if l.MTU > 0 {
		req.AddData(nl.NewRtAttr(unix.IFLA_MTU, nl.Uint32Attr(uint32(l.MTU))))
	}
	if l.MAC != "" {
		hw, _ := net.ParseMAC(l.MAC)
		req.AddData(nl.NewRtAttr(unix.IFLA_ADDRESS, hw))
	}
	req.AddData(nl.NewRtAttr(unix.IFLA_GROUP, nl.Uint32Attr(OwnerGroup)))
	if l.Master != "" {
		i, err := resolve(l.Master)
		if err != nil {
			return err
		}
		req.AddData(nl.NewRtAttr(unix.IFLA_MASTER, nl.Uint32Attr(uint32(i))))
	}
	if lower := l.lower(); lower != "" && l.Kind != VXLAN {
		i, err := resolve(lower)
		if err != nil {
			return err
		}
		req.AddData(nl.NewRtAttr(unix.IFLA_LINK, nl.Uint32Attr(uint32(i))))
	}
	return nil
}

// newTap creates a persistent tap device: /dev/net/tun makes it in the
// namespace of the thread that opens it, and one request then sets the rest.
func (m *Manager) newTap(l *Link, resolve func(string) (int, error)) error {
	err := m.inNetNS(func() error {
		return netlink.LinkAdd(&netlink.Tuntap{LinkAttrs: netlink.LinkAttrs{Name: l.Name}, Mode: netlink.TUNTAP_MODE_TAP})
	})
	if err != nil {
		return err
	}
	group := uint32(OwnerGroup)
	c := linkChange{group: &group}
	if l.MTU > 0 {
		c.mtu = &l.MTU
	}
	if l.MAC != "" {
		c.mac = &l.MAC
	}
	if l.Master != "" {
		c.master = &l.Master
	}
	up := !l.Down
	c.up = &up
	if err := m.setLink(l.Name, c, resolve); err != nil {
		return fmt.Errorf("%w (and the tap was left without nodekeeper's mark: %v)", err, m.delLink(l.Name))
	}
	return nil
}

// linkChange is what setLink changes; nil fields stay as they are.
type linkChange struct {
	mtu    *int
	mac    *string
	master *string // "" detaches
	up     *bool
	group  *uint32
}

func (m *Manager) setLink(name string, c linkChange, resolve func(string) (int, error)) error {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	if c.up != nil {
		msg.Change = unix.IFF_UP
		if *c.up {
			msg.Flags = unix.IFF_UP
		}
	}
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	if c.mtu != nil {
		req.AddData(nl.NewRtAttr(unix.IFLA_MTU, nl.Uint32Attr(uint32(*c.mtu))))
	}
	if c.mac != nil {
		hw, err := net.ParseMAC(*c.mac)
		if err != nil {
			return fmt.Errorf("mac %q: %w", *c.mac, err)
		}
		req.AddData(nl.NewRtAttr(unix.IFLA_ADDRESS, hw))
	}
	if c.master != nil {
		i := 0
		if *c.master != "" {
			var err error
			if i, err = resolve(*c.master); err != nil {
				return err
			}
		}
		req.AddData(nl.NewRtAttr(unix.IFLA_MASTER, nl.Uint32Attr(uint32(i))))
	}
	if c.group != nil {
		req.AddData(nl.NewRtAttr(unix.IFLA_GROUP, nl.Uint32Attr(*c.group)))
	}
	return m.rtnl(req)
}

func (m *Manager) delLink(name string) error {
	req := nl.NewNetlinkRequest(unix.RTM_DELLINK, unix.NLM_F_ACK)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	return m.rtnl(req)
}
