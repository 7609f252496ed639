package netcfg

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
)

// SliverNet is a node's settings for the networks of its slivers.
type SliverNet struct {
	// Node is the node's id; names, MACs and addresses derive from it.
	Node string
	// PrivateBridge ("nkpriv" if empty) carries every sliver's private
	// interface; PrivatePrefix (IPv4, 10.157.0.0/16 if unset) is its
	// network: the node is the first address, sliver N is the (N+1)th,
	// and it is masqueraded on its way out.
	PrivateBridge string
	PrivatePrefix netip.Prefix
	// PublicBridge is the bridge to the community network (often netifd's,
	// e.g. br-lan); public4/public6 interfaces are its ports.
	PublicBridge string
	// Public4First..Public4Last is the range of public IPv4 addresses:
	// sliver N gets Public4First+N-1. Public4Bits is the network's prefix
	// length. Without a range, slivers configure public4 themselves (DHCP).
	Public4First, Public4Last netip.Addr
	Public4Bits               int
	Public4Gateway            netip.Addr
	// Public6Prefix is the community network's IPv6 /64.
	Public6Prefix  netip.Prefix
	Public6Gateway netip.Addr
	// DebugBridge ("nkdbg" if empty) and DebugPrefix (an IPv6 /64; a ULA
	// derived from the node if unset) for debug interfaces.
	DebugBridge string
	DebugPrefix netip.Prefix
	// ManagementBridge ("nkmgmt" if empty) and ManagementPrefix, the
	// testbed's management IPv6 /48: the node's /64 in it is the /48
	// followed by the node number.
	ManagementBridge string
	ManagementPrefix netip.Prefix
	// IsolatedParents lists the direct interfaces isolated interfaces may
	// be VLANs of; empty allows any.
	IsolatedParents []string
}

// SliverSpec is what a sliver asks of the network.
type SliverSpec struct {
	ID     int               `json:"id"`
	Ifaces []SliverIfaceSpec `json:"ifaces"`
}

// SliverIfaceSpec is one interface a sliver asks for.
type SliverIfaceSpec struct {
	Kind IfaceKind `json:"kind"`
	// Parent and VLAN (0x100-0xfff) describe an isolated interface.
	Parent string `json:"parent,omitempty"`
	VLAN   int    `json:"vlan,omitempty"`
	// Shaping limits what the node sends to the sliver on this interface.
	Shaping *Shaping `json:"shaping,omitempty"`
}

// SliverIface is one sliver interface as netcfg derived it: what the
// container's configuration needs.
type SliverIface struct {
	Kind     IfaceKind `json:"kind"`
	Number   int       `json:"number"`
	Inner    string    `json:"inner"`               // name inside the sliver
	HostVeth string    `json:"host_veth,omitempty"` // host end of the veth
	MAC      string    `json:"mac"`
	Bridge   string    `json:"bridge,omitempty"`
	IPv4     string    `json:"ipv4,omitempty"` // address/prefix-length
	Gateway4 string    `json:"gateway4,omitempty"`
	IPv6     string    `json:"ipv6,omitempty"`
	Gateway6 string    `json:"gateway6,omitempty"`
	Parent   string    `json:"parent,omitempty"` // isolated: the direct interface
	VLAN     int       `json:"vlan,omitempty"`
}

// Defaults of SliverNet.
var (
	DefaultPrivatePrefix = netip.MustParsePrefix("10.157.0.0/16")
)

func (n SliverNet) withDefaults() SliverNet {
	if n.PrivateBridge == "" {
		n.PrivateBridge = Prefix + "priv"
	}
	if !n.PrivatePrefix.IsValid() {
		n.PrivatePrefix = DefaultPrivatePrefix
	}
	if n.DebugBridge == "" {
		n.DebugBridge = Prefix + "dbg"
	}
	if !n.DebugPrefix.IsValid() {
		nn := NodeNumber(n.Node)
		// fd6e:6b00:NNNN::/64, a ULA whose global id is "nk" and the node.
		n.DebugPrefix = netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfd, 0x6e, 0x6b, 0x00, byte(nn >> 8), byte(nn)}), 64)
	}
	if n.ManagementBridge == "" {
		n.ManagementBridge = Prefix + "mgmt"
	}
	return n
}

// iid is the interface id of a sliver interface in an IPv6 /64:
// 6e6b:NNNN:0SSS:000I.
func iid(node string, sliver, num int) uint64 {
	return 0x6e6b<<48 | uint64(NodeNumber(node))<<32 | uint64(sliver)<<16 | uint64(num)
}

func in64(p netip.Prefix, id uint64) netip.Addr {
	b := p.Masked().Addr().As16()
	binary.BigEndian.PutUint64(b[8:], id)
	return netip.AddrFrom16(b)
}

// nthAddr returns the address n after the start of p, or false past its end.
func nthAddr(p netip.Prefix, n uint64) (netip.Addr, bool) {
	a := p.Masked().Addr()
	if !a.Is4() {
		return netip.Addr{}, false
	}
	b := a.As4()
	v := uint64(binary.BigEndian.Uint32(b[:])) + n
	size := uint64(1) << (32 - p.Bits())
	if n >= size-1 { // the last address is the broadcast
		return netip.Addr{}, false
	}
	binary.BigEndian.PutUint32(b[:], uint32(v))
	return netip.AddrFrom4(b), true
}

func (n SliverNet) validate() error {
	switch {
	case n.Node == "":
		return fmt.Errorf("sliver network: no node id")
	case !n.PrivatePrefix.Addr().Is4() || n.PrivatePrefix.Bits() > 30:
		return fmt.Errorf("sliver network: private prefix %s must be IPv4, /30 or wider", n.PrivatePrefix)
	case n.Public4First.IsValid() != n.Public4Last.IsValid():
		return fmt.Errorf("sliver network: public4 range needs a first and a last address")
	case n.Public4First.IsValid() && (!n.Public4First.Is4() || !n.Public4Last.Is4() || n.Public4Last.Less(n.Public4First)):
		return fmt.Errorf("sliver network: public4 range %s-%s", n.Public4First, n.Public4Last)
	case n.Public4First.IsValid() && (n.Public4Bits < 1 || n.Public4Bits > 32):
		return fmt.Errorf("sliver network: public4 prefix length %d", n.Public4Bits)
	case n.Public6Prefix.IsValid() && (!n.Public6Prefix.Addr().Is6() || n.Public6Prefix.Bits() != 64):
		return fmt.Errorf("sliver network: public6 prefix %s must be an IPv6 /64", n.Public6Prefix)
	case !n.DebugPrefix.Addr().Is6() || n.DebugPrefix.Bits() != 64:
		return fmt.Errorf("sliver network: debug prefix %s must be an IPv6 /64", n.DebugPrefix)
	case n.ManagementPrefix.IsValid() && (!n.ManagementPrefix.Addr().Is6() || n.ManagementPrefix.Bits() != 48):
		return fmt.Errorf("sliver network: management prefix %s must be an IPv6 /48", n.ManagementPrefix)
	}
	for _, b := range []string{n.PrivateBridge, n.DebugBridge, n.ManagementBridge} {
		if err := checkName(b); err != nil {
			return fmt.Errorf("sliver network: bridge: %w", err)
		}
	}
	return nil
}

// Network returns what the slivers need from the node's network: the
// private bridge with the node's address, its NAT and isolation; debug and
// management bridges when a sliver has such an interface; the host-side
// veths (made by LXC) as External links attached to their bridges, shaped
// and isolated; and, per sliver, its interfaces with derived names, MACs
// and addresses.
func (n SliverNet) Network(slivers []SliverSpec) (Config, map[int][]SliverIface, error) {
	n = n.withDefaults()
	if err := n.validate(); err != nil {
		return Config{}, nil, err
	}
	var c Config
	gw4, _ := nthAddr(n.PrivatePrefix, 1)
	c.Links = append(c.Links, Link{Name: n.PrivateBridge, Kind: Bridge, Addrs: []netip.Prefix{netip.PrefixFrom(gw4, n.PrivatePrefix.Bits())}})
	c.Firewall.NAT = append(c.Firewall.NAT, NAT{Source: n.PrivatePrefix.Masked(), Bridge: n.PrivateBridge})
	c.Firewall.Isolate = append(c.Firewall.Isolate, Isolation{Link: n.PrivateBridge, Mode: IsolatePrivate})
	nodeMgmt := netip.Prefix{}
	if n.ManagementPrefix.IsValid() {
		b := n.ManagementPrefix.Masked().Addr().As16()
		binary.BigEndian.PutUint16(b[6:], NodeNumber(n.Node))
		nodeMgmt = netip.PrefixFrom(netip.AddrFrom16(b), 64)
	}
	bridges := map[IfaceKind]bool{}
	out := map[int][]SliverIface{}
	seen := map[int]bool{}
	for _, s := range slivers {
		if seen[s.ID] {
			return Config{}, nil, fmt.Errorf("sliver %d listed twice", s.ID)
		}
		seen[s.ID] = true
		kinds := map[IfaceKind]bool{}
		isolated := 0
		for _, spec := range s.Ifaces {
			where := fmt.Sprintf("sliver %d, %s interface", s.ID, spec.Kind)
			if spec.Kind != Isolated && kinds[spec.Kind] {
				return Config{}, nil, fmt.Errorf("%s: at most one of each kind but isolated", where)
			}
			kinds[spec.Kind] = true
			index := 0
			if spec.Kind == Isolated {
				index = isolated
				isolated++
			}
			num, inner, err := IfaceNumber(spec.Kind, index)
			if err != nil {
				return Config{}, nil, fmt.Errorf("%s: %w", where, err)
			}
			mac, err := SliverMAC(n.Node, s.ID, num)
			if err != nil {
				return Config{}, nil, fmt.Errorf("%s: %w", where, err)
			}
			ifc := SliverIface{Kind: spec.Kind, Number: num, Inner: inner, MAC: mac.String()}
			if spec.Kind == Isolated {
				if spec.VLAN < 0x100 || spec.VLAN > 0xfff {
					return Config{}, nil, fmt.Errorf("%s: VLAN tag %#x out of range 0x100-0xfff", where, spec.VLAN)
				}
				if err := checkName(spec.Parent); err != nil {
					return Config{}, nil, fmt.Errorf("%s: parent: %w", where, err)
				}
				if len(n.IsolatedParents) > 0 && !slices.Contains(n.IsolatedParents, spec.Parent) {
					return Config{}, nil, fmt.Errorf("%s: %s is not one of the node's direct interfaces %v", where, spec.Parent, n.IsolatedParents)
				}
				ifc.Parent, ifc.VLAN = spec.Parent, spec.VLAN
				out[s.ID] = append(out[s.ID], ifc)
				continue
			}
			veth, err := SliverVethName(n.Node, s.ID, num)
			if err != nil {
				return Config{}, nil, fmt.Errorf("%s: %w", where, err)
			}
			ifc.HostVeth = veth
			var mode IsolationMode
			switch spec.Kind {
			case Private:
				a, ok := nthAddr(n.PrivatePrefix, uint64(s.ID)+1)
				if !ok {
					return Config{}, nil, fmt.Errorf("%s: private network %s has no address for sliver %d", where, n.PrivatePrefix, s.ID)
				}
				ifc.Bridge, mode = n.PrivateBridge, IsolatePort
				ifc.IPv4 = netip.PrefixFrom(a, n.PrivatePrefix.Bits()).String()
				ifc.Gateway4 = gw4.String()
			case Public4, Public6:
				if n.PublicBridge == "" {
					return Config{}, nil, fmt.Errorf("%s: the node has no public bridge", where)
				}
				ifc.Bridge, mode = n.PublicBridge, IsolatePublic
				if spec.Kind == Public4 && n.Public4First.IsValid() {
					a := n.Public4First
					for i := 1; i < s.ID && a.IsValid(); i++ {
						a = a.Next()
					}
					if !a.IsValid() || n.Public4Last.Less(a) {
						return Config{}, nil, fmt.Errorf("%s: public4 range %s-%s has no address for sliver %d", where, n.Public4First, n.Public4Last, s.ID)
					}
					ifc.IPv4 = netip.PrefixFrom(a, n.Public4Bits).String()
					if n.Public4Gateway.IsValid() {
						ifc.Gateway4 = n.Public4Gateway.String()
					}
				}
				if spec.Kind == Public6 && n.Public6Prefix.IsValid() {
					ifc.IPv6 = netip.PrefixFrom(in64(n.Public6Prefix, iid(n.Node, s.ID, num)), 64).String()
					if n.Public6Gateway.IsValid() {
						ifc.Gateway6 = n.Public6Gateway.String()
					}
				}
			case Debug:
				ifc.Bridge = n.DebugBridge
				ifc.IPv6 = netip.PrefixFrom(in64(n.DebugPrefix, iid(n.Node, s.ID, num)), 64).String()
				bridges[Debug] = true
			case Management:
				if !nodeMgmt.IsValid() {
					return Config{}, nil, fmt.Errorf("%s: the node has no management prefix", where)
				}
				ifc.Bridge = n.ManagementBridge
				ifc.IPv6 = netip.PrefixFrom(in64(nodeMgmt, iid(n.Node, s.ID, num)), 64).String()
				ifc.Gateway6 = in64(nodeMgmt, 1).String()
				bridges[Management] = true
			}
			c.Links = append(c.Links, Link{Name: veth, Kind: External, Master: ifc.Bridge, Shaping: spec.Shaping})
			if mode != "" {
				c.Firewall.Isolate = append(c.Firewall.Isolate, Isolation{Link: veth, Mode: mode})
			}
			out[s.ID] = append(out[s.ID], ifc)
		}
	}
	if bridges[Debug] {
		c.Links = append(c.Links, Link{Name: n.DebugBridge, Kind: Bridge, Addrs: []netip.Prefix{netip.PrefixFrom(in64(n.DebugPrefix, 1), 64)}})
	}
	if bridges[Management] {
		c.Links = append(c.Links, Link{Name: n.ManagementBridge, Kind: Bridge, Addrs: []netip.Prefix{netip.PrefixFrom(in64(nodeMgmt, 1), 64)}})
	}
	return c, out, nil
}
