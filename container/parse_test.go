package container

import (
	"strings"
	"testing"

	"github.com/nodekeeper/nodekeeper/netcfg"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"4096", 4096, false}, {"4096B", 4096, false}, {"64M", 64 << 20, false}, {"64m", 64 << 20, false},
		{"64MiB", 64 << 20, false}, {"64MB", 64 << 20, false}, {"1.5G", 1536 << 20, false}, {" 2T ", 2 << 40, false},
		{"1k", 1024, false}, {"", 0, true}, {"M", 0, true}, {"-1M", 0, true}, {"12X", 0, true}, {"99999999T", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseInterface(t *testing.T) {
	tests := []struct {
		in     string
		want   Interface
		errHas string
	}{
		{"private", Interface{Kind: netcfg.Private}, ""},
		{"private,ipv4=10.0.3.2/24,gw4=10.0.3.1", Interface{Kind: netcfg.Private, IPv4: "10.0.3.2/24", Gateway4: "10.0.3.1"}, ""},
		{"public6,bridge=br-lan,ipv6=fd00::2/64,gw6=fd00::1", Interface{Kind: netcfg.Public6, Bridge: "br-lan", IPv6: "fd00::2/64", Gateway6: "fd00::1"}, ""},
		{"isolated,parent=eth1,vlan=0x123", Interface{Kind: netcfg.Isolated, Parent: "eth1", VLAN: 0x123}, ""},
		{"wifi", Interface{}, "unknown sliver interface kind"},
		{"private,bridge", Interface{}, "not key=value"},
		{"private,colour=red", Interface{}, `unknown key "colour"`},
		{"isolated,parent=eth1,vlan=x", Interface{}, `vlan "x"`},
		{"isolated,parent=eth1", Interface{}, "VLAN tag"},
		{"private,ipv4=10.0.0.1", Interface{}, "prefix-length"},
	}
	for _, tt := range tests {
		got, err := ParseInterface(tt.in)
		if tt.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("%q: error %v, want one with %q", tt.in, err, tt.errHas)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v %v, want %+v", tt.in, got, err, tt.want)
		}
	}
}
