package agent

import (
	"net"
	"os"
	"sort"
	"strings"
)

// nicInfo is what choosing the primary MAC needs to know of an interface.
type nicInfo struct {
	index    int
	name     string
	mac      net.HardwareAddr
	loopback bool
	virtual  bool // under /sys/devices/virtual: a bridge, veth, tunnel...
}

// DefaultNodeID is the node id used when UCI sets none: "nk-" and the
// primary MAC address in hex (e.g. "nk-02fc00000001"), stable across
// reboots. Without any MAC address it falls back to the hostname.
func DefaultNodeID() string {
	ifs, _ := net.Interfaces()
	nics := make([]nicInfo, 0, len(ifs))
	for _, i := range ifs {
		_, err := os.Stat("/sys/devices/virtual/net/" + i.Name)
		nics = append(nics, nicInfo{index: i.Index, name: i.Name, mac: i.HardwareAddr,
			loopback: i.Flags&net.FlagLoopback != 0, virtual: err == nil})
	}
	if mac := primaryMAC(nics); mac != nil {
		return "nk-" + strings.ReplaceAll(mac.String(), ":", "")
	}
	h, err := os.Hostname()
	if err != nil || !validTopicLevel(h) {
		return "nk-node"
	}
	return "nk-" + h
}

// primaryMAC picks the MAC address that names the node: the first
// interface (by index) that is neither loopback nor virtual and has a
// universally administered address; failing that, the first physical one
// with any address; failing that, the first non-loopback one with an
// Ethernet address (a node in a network namespace has only virtual links).
func primaryMAC(nics []nicInfo) net.HardwareAddr {
	sort.Slice(nics, func(i, j int) bool { return nics[i].index < nics[j].index })
	usable := func(n nicInfo) bool {
		if n.loopback || len(n.mac) != 6 {
			return false
		}
		for _, b := range n.mac {
			if b != 0 {
				return true
			}
		}
		return false
	}
	tiers := []func(nicInfo) bool{
		func(n nicInfo) bool { return !n.virtual && n.mac[0]&0x02 == 0 },
		func(n nicInfo) bool { return !n.virtual },
		func(nicInfo) bool { return true },
	}
	for _, ok := range tiers {
		for _, n := range nics {
			if usable(n) && ok(n) {
				return n.mac
			}
		}
	}
	return nil
}
