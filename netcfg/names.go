package netcfg

import (
	"fmt"
	"hash/fnv"
	"net"
	"path"
	"strings"
)

// Prefix starts the name of every link the agent creates. A link whose name
// does not start with it (and that carries no ownership alias) is never
// changed or deleted by nodekeeper.
const Prefix = "nk"

// IfaceKind is a CONFINE sliver interface kind.
type IfaceKind string

// The sliver interface kinds of CONFINE.
const (
	Private    IfaceKind = "private"    // veth on an internal bridge, NATed; always present
	Management IfaceKind = "management" // IPv6 on the management overlay
	Public4    IfaceKind = "public4"    // veth on the community-network bridge, IPv4
	Public6    IfaceKind = "public6"    // same, IPv6
	Debug      IfaceKind = "debug"      // veth on a local debug bridge
	Isolated   IfaceKind = "isolated"   // VLAN on a direct interface
)

// IfaceNumber returns the interface number CONFINE gives a kind, and the name
// the interface has inside the sliver. Isolated interfaces are numbered from
// 5 in the order they are listed (index counts them from 0, at most 10).
func IfaceNumber(kind IfaceKind, index int) (num int, inner string, err error) {
	switch kind {
	case Private:
		return 0, "priv", nil
	case Management:
		return 1, "mgmt0", nil
	case Public4:
		return 2, "pub0", nil
	case Public6:
		return 3, "pub1", nil
	case Debug:
		return 4, "dbg0", nil
	case Isolated:
		if index < 0 || index > 10 {
			return 0, "", fmt.Errorf("isolated interface %d: at most 11 per sliver", index)
		}
		return 5 + index, fmt.Sprintf("iso%d", index), nil
	}
	return 0, "", fmt.Errorf("unknown sliver interface kind %q (want private, management, public4, public6, debug or isolated)", short(string(kind)))
}

// NodeNumber folds a node id into the 16 bits that names and MAC addresses
// carry. It is stable: the same node id always gives the same number.
func NodeNumber(node string) uint16 {
	h := fnv.New32a()
	h.Write([]byte(node))
	s := h.Sum32()
	return uint16(s>>16) ^ uint16(s)
}

// MaxSliverID is the largest sliver number on one node that names and MAC
// addresses can carry.
const MaxSliverID = 0xfff

// SliverVethName is the host-side name of a sliver interface's veth: derived
// from the node, the sliver number and the interface number, always 12
// characters (within the kernel's 15), e.g. "nk1a2bs003i0".
func SliverVethName(node string, sliverID, ifaceNum int) (string, error) {
	if err := checkSliverIface(sliverID, ifaceNum); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%04xs%03xi%x", Prefix, NodeNumber(node), sliverID, ifaceNum), nil
}

// SliverMAC is the MAC address of a sliver interface:
// 6e:6b:NN:NN:SS:SI, where 6e:6b ("nk") is a locally administered unicast
// prefix, NNNN the node number, SSS the sliver number and I the interface
// number.
func SliverMAC(node string, sliverID, ifaceNum int) (net.HardwareAddr, error) {
	if err := checkSliverIface(sliverID, ifaceNum); err != nil {
		return nil, err
	}
	n := NodeNumber(node)
	return net.HardwareAddr{0x6e, 0x6b, byte(n >> 8), byte(n),
		byte(sliverID >> 4), byte(sliverID&0xf)<<4 | byte(ifaceNum)}, nil
}

// CheckLinkName checks a network interface name (a link, a bridge, a VLAN
// parent) given from outside against the one grammar nodekeeper accepts:
// 1-15 bytes (the kernel's IFNAMSIZ less its NUL) of A-Z, a-z, 0-9, '_',
// '-' and '.', not starting with '-' or '.'. The kernel takes more (any
// byte but '/', ':' and whitespace); nodekeeper does not, because these
// names reach LXC config files, command lines and nftables rules.
func CheckLinkName(name string) error {
	ok := name != "" && len(name) <= 15 && name[0] != '-' && name[0] != '.'
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
	}
	if !ok {
		return fmt.Errorf("interface name %q: want 1-15 characters of A-Z a-z 0-9 _ - . (not - or . first)", short(name))
	}
	return nil
}

func checkSliverIface(sliverID, ifaceNum int) error {
	if sliverID < 1 || sliverID > MaxSliverID {
		return fmt.Errorf("sliver number %d out of range 1..%d", sliverID, MaxSliverID)
	}
	if ifaceNum < 0 || ifaceNum > 0xf {
		return fmt.Errorf("interface number %d out of range 0..15", ifaceNum)
	}
	return nil
}

// CheckNetns checks a network namespace given from outside (a UCI option,
// a flag, a veth peer's peer_netns): either a name under /run/netns, 1-64
// bytes of A-Z, a-z, 0-9, '_', '-' and '.', not starting with '-' or '.'
// (so never "..", never an option to nsenter or ip), or an absolute path
// in clean form (such as /proc/PID/ns/net) of at most 4096 bytes without
// control characters or spaces. The empty string (the current namespace)
// is the caller's to allow.
func CheckNetns(ns string) error {
	if strings.HasPrefix(ns, "/") {
		ok := len(ns) <= 4096 && path.Clean(ns) == ns
		for i := 0; ok && i < len(ns); i++ {
			ok = ns[i] > ' ' && ns[i] < 0x7f
		}
		if !ok {
			return fmt.Errorf("network namespace %q: want a name (A-Z a-z 0-9 _ - .) or an absolute clean path without spaces or control characters", short(ns))
		}
		return nil
	}
	ok := ns != "" && len(ns) <= 64 && ns[0] != '-' && ns[0] != '.'
	for i := 0; ok && i < len(ns); i++ {
		c := ns[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
	}
	if !ok {
		return fmt.Errorf("network namespace %q: want a name of 1-64 of A-Z a-z 0-9 _ - . (not - or . first) or an absolute clean path", short(ns))
	}
	return nil
}

// short cuts a name from outside for an error message: errors are logged
// and published, and the name may be as long as its document.
func short(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:64] + "..."
}
