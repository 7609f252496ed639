package agent

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// DefaultNodeID is the node id wherever none is given (agent.node_id, the
// --node flags of the commands): "nk-" and, in hex, the MAC address of the
// node's first physical network interface (e.g. "nk-0011223344ff"), so it
// is stable across reboots. Without one (a network namespace or a
// container, where every link is virtual and gets a new address when it is
// recreated) it is "nk-" and the hostname.
func DefaultNodeID() string { return defaultNodeID("/sys/class/net", os.Hostname) }

func defaultNodeID(sysNet string, hostname func() (string, error)) string {
	if mac := primaryMAC(sysNet); mac != "" {
		return "nk-" + mac
	}
	h, err := hostname()
	if err != nil || !validTopicLevel(h) {
		return "nk-node"
	}
	return "nk-" + h
}

// primaryMAC returns, as 12 hex digits, the address of the interface that
// names the node, read from sysNet (/sys/class/net): among the Ethernet
// interfaces (type 1) backed by a device (not a veth, bridge, tunnel,
// vxlan or loopback), the first by ifindex, then name, whose address is
// permanent (addr_assign_type 0); failing that, one whose address was set
// by configuration (3). Random addresses (1: a NIC without its own, which
// changes at every boot) and stolen ones (2) never name a node. "" when
// there is none.
func primaryMAC(sysNet string) string {
	ents, _ := os.ReadDir(sysNet)
	type nic struct {
		index      int
		name, mac  string
		assignType string
	}
	var nics []nic
	read := func(dir, f string) string {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		return strings.TrimSpace(string(b))
	}
	for _, e := range ents {
		dir := filepath.Join(sysNet, e.Name())
		if _, err := os.Stat(filepath.Join(dir, "device")); err != nil || read(dir, "type") != "1" {
			continue
		}
		mac := strings.ReplaceAll(read(dir, "address"), ":", "")
		if len(mac) != 12 || mac == "000000000000" {
			continue
		}
		index, _ := strconv.Atoi(read(dir, "ifindex"))
		nics = append(nics, nic{index, e.Name(), mac, read(dir, "addr_assign_type")})
	}
	sort.Slice(nics, func(i, j int) bool {
		if nics[i].index != nics[j].index {
			return nics[i].index < nics[j].index
		}
		return nics[i].name < nics[j].name
	})
	for _, want := range []string{"0", "3"} {
		for _, n := range nics {
			if n.assignType == want {
				return n.mac
			}
		}
	}
	return ""
}
