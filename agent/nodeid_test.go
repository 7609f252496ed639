package agent

import (
	"net"
	"testing"
)

func TestPrimaryMAC(t *testing.T) {
	mac := func(s string) net.HardwareAddr { m, _ := net.ParseMAC(s); return m }
	lo := nicInfo{index: 1, name: "lo", loopback: true, mac: mac("00:00:00:00:00:00"), virtual: true}
	tests := []struct {
		name string
		nics []nicInfo
		want string
	}{
		{"first physical universal", []nicInfo{lo,
			{index: 3, name: "eth1", mac: mac("00:11:22:33:44:56")},
			{index: 2, name: "eth0", mac: mac("00:11:22:33:44:55")},
			{index: 4, name: "br-lan", mac: mac("00:11:22:33:44:54"), virtual: true}}, "00:11:22:33:44:55"},
		{"universal beats local", []nicInfo{lo,
			{index: 2, name: "eth0", mac: mac("02:fc:00:00:00:01")},
			{index: 3, name: "eth1", mac: mac("00:11:22:33:44:55")}}, "00:11:22:33:44:55"},
		{"physical local", []nicInfo{lo,
			{index: 2, name: "br0", mac: mac("00:11:22:33:44:55"), virtual: true},
			{index: 3, name: "eth0", mac: mac("02:fc:00:00:00:01")}}, "02:fc:00:00:00:01"},
		{"only virtual (a namespace)", []nicInfo{lo,
			{index: 5, name: "veth0", mac: mac("6e:6b:00:00:00:01"), virtual: true},
			{index: 4, name: "nkbr", mac: mac("6e:6b:00:00:00:02"), virtual: true}}, "6e:6b:00:00:00:02"},
		{"no MAC", []nicInfo{lo, {index: 2, name: "tun0", virtual: true}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := primaryMAC(tt.nics); got.String() != tt.want {
				t.Errorf("primaryMAC = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDefaultNodeID(t *testing.T) {
	id := DefaultNodeID()
	if !validTopicLevel(id) || len(id) < 4 || id[:3] != "nk-" {
		t.Errorf("DefaultNodeID() = %q", id)
	}
	if again := DefaultNodeID(); again != id {
		t.Errorf("DefaultNodeID() changed: %q, then %q", id, again)
	}
}
