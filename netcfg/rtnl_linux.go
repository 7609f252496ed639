package netcfg

import (
	"encoding/binary"
	"errors"
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

// linkID is a link's index and what netcfg needs to know of it that the
// netlink library does not read.
type linkID struct {
	index    int
	oneQueue bool // one transmit and one receive queue
}

// linkIDs lists the namespace's links by name.
func (m *Manager) linkIDs() (map[string]linkID, error) {
	var msgs [][]byte
	var err error
	for try := 0; try < 5; try++ {
		req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_DUMP)
		req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
		req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: m.rt}
		// A link that changes during the dump interrupts it: dump again.
		if msgs, err = req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWLINK); !errors.Is(err, nl.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	ids := make(map[string]linkID, len(msgs))
	for _, b := range msgs {
		if len(b) < unix.SizeofIfInfomsg {
			continue
		}
		attrs, err := nl.ParseRouteAttr(b[unix.SizeofIfInfomsg:])
		if err != nil {
			return nil, fmt.Errorf("parse link: %w", err)
		}
		id := linkID{index: int(nl.DeserializeIfInfomsg(b).Index)}
		name := ""
		var tx, rx uint32
		for _, a := range attrs {
			switch a.Attr.Type {
			case unix.IFLA_IFNAME:
				name = unix.ByteSliceToString(a.Value)
			case unix.IFLA_NUM_TX_QUEUES:
				tx = binary.NativeEndian.Uint32(a.Value)
			case unix.IFLA_NUM_RX_QUEUES:
				rx = binary.NativeEndian.Uint32(a.Value)
			}
		}
		id.oneQueue = tx == 1 && rx == 1
		ids[name] = id
	}
	return ids, nil
}

var macvlanModes = map[string]uint32{"private": 1, "vepa": 2, "bridge": 4, "passthru": 8}

// newLink creates a link as a lone request (the peer of a veth is brought
// up by a second one).
func (m *Manager) newLink(a action, resolve func(string) (int, error)) error {
	l := a.link
	if l.Kind == Tap {
		return m.newTap(l, resolve)
	}
	req, release, err := linkCreateReq(a, resolve)
	if err != nil {
		return err
	}
	err = m.rtnl(req)
	release()
	if err != nil {
		return err
	}
	if l.Peer.local() && !l.Peer.Down {
		if err := m.rtnl(peerUpReq(l)); err != nil {
			return fmt.Errorf("bring peer %s up: %w", l.Peer.Name, err)
		}
	}
	return nil
}

// peerUpReq brings a new veth's peer up: the kernel refuses to as it
// creates the pair (the peer cannot open before its other end exists).
func peerUpReq(l *Link) *nl.NetlinkRequest {
	up := true
	req, _ := linkSetReq(l.Peer.Name, linkChange{up: &up}, nil)
	return req
}

// linkCreateReq builds the RTM_NEWLINK that creates a.link with indexes
// a.index and a.peerIndex (0: the kernel picks); resolve gives the indexes
// of the links it refers to. release frees what the request holds (a
// namespace handle) once it is sent.
func linkCreateReq(a action, resolve func(string) (int, error)) (req *nl.NetlinkRequest, release func(), err error) {
	l := a.link
	release = func() {}
	req = nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(a.index)
	if !l.Down {
		msg.Change, msg.Flags = unix.IFF_UP, unix.IFF_UP
	}
	req.AddData(msg)
	if err := addLinkAttrs(req, l, resolve); err != nil {
		return nil, nil, err
	}
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated(string(l.Kind)))
	switch l.Kind {
	case Veth:
		if !a.kernelQueues {
			oneQueue(req.AddData)
		}
		data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
		peer := data.AddRtAttr(nl.VETH_INFO_PEER, nil)
		pm := nl.NewIfInfomsgChild(peer, unix.AF_UNSPEC)
		pm.Index = int32(a.peerIndex)
		p := l.Peer
		peer.AddRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(p.Name))
		if !a.peerKernelQueues {
			oneQueue(func(d nl.NetlinkRequestData) { peer.AddChild(d) })
		}
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
			if strings.Contains(p.NetNS, "/") {
				ns, err = netns.GetFromPath(p.NetNS)
			} else {
				ns, err = netns.GetFromName(p.NetNS)
			}
			if err != nil {
				return nil, nil, fmt.Errorf("peer namespace %s: %w", p.NetNS, err)
			}
			release = func() { ns.Close() }
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
				return nil, nil, err
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
	return req, release, nil
}

// oneQueue gives a veth end the one queue it uses. Left to itself, the
// kernel gives a veth a queue per CPU, uses one, and drops the others once
// the link is registered, waiting for an RCU grace period to do so (a
// fifth of the time it takes to make a veth pair on two CPUs).
func oneQueue(add func(nl.NetlinkRequestData)) {
	add(nl.NewRtAttr(unix.IFLA_NUM_TX_QUEUES, nl.Uint32Attr(1)))
	add(nl.NewRtAttr(unix.IFLA_NUM_RX_QUEUES, nl.Uint32Attr(1)))
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
	req, err := linkSetReq(name, c, resolve)
	if err != nil {
		return err
	}
	return m.rtnl(req)
}

// linkSetReq builds the RTM_NEWLINK that changes the link named name.
func linkSetReq(name string, c linkChange, resolve func(string) (int, error)) (*nl.NetlinkRequest, error) {
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
			return nil, fmt.Errorf("mac %q: %w", *c.mac, err)
		}
		req.AddData(nl.NewRtAttr(unix.IFLA_ADDRESS, hw))
	}
	if c.master != nil {
		i := 0
		if *c.master != "" {
			var err error
			if i, err = resolve(*c.master); err != nil {
				return nil, err
			}
		}
		req.AddData(nl.NewRtAttr(unix.IFLA_MASTER, nl.Uint32Attr(uint32(i))))
	}
	if c.group != nil {
		req.AddData(nl.NewRtAttr(unix.IFLA_GROUP, nl.Uint32Attr(*c.group)))
	}
	return req, nil
}

func (m *Manager) delLink(name string) error {
	return m.rtnl(linkDelReq(name))
}

func linkDelReq(name string) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_DELLINK, unix.NLM_F_ACK)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	return req
}

// addrReq builds the RTM_NEWADDR (add) or RTM_DELADDR (!add) for p on the
// link with index i, as `ip addr add P brd + dev L` would: an IPv4 address
// gets its broadcast address (up to /30); an IPv6 address skips duplicate
// address detection, so that it is usable at once and a rollback puts back
// exactly what was there.
func addrReq(add bool, i int, p netip.Prefix) *nl.NetlinkRequest {
	var req *nl.NetlinkRequest
	if add {
		req = nl.NewNetlinkRequest(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
	} else {
		req = nl.NewNetlinkRequest(unix.RTM_DELADDR, unix.NLM_F_ACK)
	}
	a := p.Addr()
	msg := nl.NewIfAddrmsg(unix.AF_INET)
	if a.Is6() {
		msg.Family = unix.AF_INET6
		msg.Flags = unix.IFA_F_NODAD
	}
	msg.Index = uint32(i)
	msg.Prefixlen = uint8(p.Bits())
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFA_LOCAL, a.AsSlice()))
	req.AddData(nl.NewRtAttr(unix.IFA_ADDRESS, a.AsSlice()))
	if a.Is4() && p.Bits() < 31 {
		b := a.As4()
		host := ^uint32(0) >> p.Bits()
		binary.BigEndian.PutUint32(b[:], binary.BigEndian.Uint32(b[:])|host)
		req.AddData(nl.NewRtAttr(unix.IFA_BROADCAST, b[:]))
	}
	return req
}
