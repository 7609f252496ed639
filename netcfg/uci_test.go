package netcfg

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

func section(typ, name string, opts ...string) Section {
	s := Section{Type: typ, Name: name, Options: map[string][]string{}}
	for i := 0; i+1 < len(opts); i += 2 {
		s.Options[opts[i]] = append(s.Options[opts[i]], opts[i+1])
	}
	return s
}

func TestFromSections(t *testing.T) {
	secs := []Section{
		section("nodekeeper", "main", "loglevel", "info"), // not netcfg's: skipped
		section("bridge", "nkmesh", "mtu", "1450", "ipaddr", "10.1.0.1/24", "ip6addr", "fd00:1::1/64"),
		section("overlay", "nkvx1", "vni", "42", "peeraddr", "192.0.2.2", "port", "4790", "local", "192.0.2.1", "ttl", "8", "device", "eth0", "bridge", "nkmesh"),
		section("veth", "nkv", "peer", "eth0", "peer_netns", "/run/netns/c1", "bridge", "nkmesh", "rate", "10mbit", "burst", "32k"),
		section("vlan", "nkv100", "device", "eth1", "vid", "100", "up", "0"),
		section("macvlan", "cfg0a1b2c", "name", "nkmv", "device", "eth1", "mode", "vepa"),
		section("gre", "nkgre", "peeraddr", "192.0.2.9", "ttl", "64", "disabled", "1"),
		section("route", "r1", "target", "10.2.0.0/16", "gateway", "10.1.0.2", "metric", "10", "table", "100"),
		section("shaping", "s1", "interface", "nkmesh", "qdisc", "htb", "rate", "100mbit"),
		section("nat", "n1", "source", "10.1.0.0/24", "bridge", "nkmesh"),
		section("isolate", "i1", "interface", "nkmesh", "mode", "private"),
	}
	c, err := FromSections(secs)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Links: []Link{
			{Name: "nkmesh", Kind: Bridge, MTU: 1450, Addrs: []netip.Prefix{pfx("10.1.0.1/24"), pfx("fd00:1::1/64")}, Shaping: &Shaping{Qdisc: "htb", Rate: 100e6}},
			{Name: "nkvx1", Kind: VXLAN, Master: "nkmesh", VXLAN: &VXLANOpts{VNI: 42, Remote: ip("192.0.2.2"), Port: 4790, Local: ip("192.0.2.1"), TTL: 8, Dev: "eth0"}},
			{Name: "nkv", Kind: Veth, Master: "nkmesh", Peer: &VethPeer{Name: "eth0", NetNS: "/run/netns/c1"}, Shaping: &Shaping{Qdisc: "tbf", Rate: 10e6, Burst: 32 << 10}},
			{Name: "nkv100", Kind: VLAN, Down: true, VLAN: &VLANOpts{Parent: "eth1", ID: 100}},
			{Name: "nkmv", Kind: Macvlan, Macvlan: &MacvlanOpts{Parent: "eth1", Mode: "vepa"}},
		},
		Routes:   []Route{{Dst: pfx("10.2.0.0/16"), Via: ip("10.1.0.2"), Metric: 10, Table: 100}},
		Firewall: Firewall{NAT: []NAT{{Source: pfx("10.1.0.0/24"), Bridge: "nkmesh"}}, Isolate: []Isolation{{Link: "nkmesh", Mode: IsolatePrivate}}},
	}
	got, _ := json.MarshalIndent(c, "", " ")
	exp, _ := json.MarshalIndent(want, "", " ")
	if string(got) != string(exp) {
		t.Errorf("FromSections:\n%s\nwant:\n%s", got, exp)
	}
}

func TestFromSectionsErrors(t *testing.T) {
	tests := []struct {
		name    string
		secs    []Section
		wantErr string
	}{
		{"unknown option", []Section{section("bridge", "nkbr", "mtuu", "1400")}, "config bridge 'nkbr' option mtuu: unknown option"},
		{"bad mtu", []Section{section("bridge", "nkbr", "mtu", "big")}, "config bridge 'nkbr' option mtu"},
		{"bad address", []Section{section("bridge", "nkbr", "ipaddr", "10.0.0.300/24")}, "option ipaddr"},
		{"option twice", []Section{{Type: "bridge", Name: "nkbr", Options: map[string][]string{"mtu": {"1400", "1500"}}}}, "given 2 times"},
		{"veth without peer", []Section{section("veth", "nkv")}, "option peer: missing"},
		{"overlay without vni", []Section{section("overlay", "nkvx", "peeraddr", "192.0.2.1")}, "option vni: missing"},
		{"bad rate", []Section{section("bridge", "nkbr", "rate", "fast")}, "option rate"},
		{"burst without rate", []Section{section("bridge", "nkbr", "burst", "32k")}, "option burst: given without a rate"},
		{"bad latency", []Section{section("bridge", "nkbr", "rate", "1mbit", "latency", "soon")}, "option latency"},
		{"shaping unknown link", []Section{section("shaping", "s", "interface", "nkx", "rate", "1mbit")}, "no link section named"},
		{"shaping twice", []Section{section("bridge", "nkbr", "rate", "1mbit"), section("shaping", "s", "interface", "nkbr", "rate", "2mbit")}, "shaped twice"},
		{"bad boolean", []Section{section("bridge", "nkbr", "up", "maybe")}, "option up"},
		{"sliver iface without net", []Section{section("sliver_iface", "x", "sliver", "1", "type", "private")}, "needs a config sliver_net"},
		{"sliver iface without sliver", []Section{section("sliver_net", "n", "node", "a"), section("sliver_iface", "x", "type", "private")}, "option sliver: missing"},
		{"bad sliver kind", []Section{section("sliver_net", "n", "node", "a"), section("sliver_iface", "x", "sliver", "1", "type", "wifi")}, "unknown sliver interface kind"},
		{"invalid model", []Section{section("bridge", "eth9")}, `does not start with "nk"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromSections(tt.secs)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("FromSections = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFromSectionsSlivers(t *testing.T) {
	secs := []Section{
		section("sliver_net", "net", "node", "node-7", "public_bridge", "br-lan", "public4_first", "10.5.0.10", "public4_last", "10.5.0.20",
			"public4_prefixlen", "24", "public4_gateway", "10.5.0.1"),
		section("sliver_iface", "a", "sliver", "3", "type", "private", "rate", "2mbit"),
		section("sliver_iface", "b", "sliver", "3", "type", "public4"),
		section("sliver_iface", "c", "sliver", "1", "type", "private"),
	}
	c, err := FromSections(secs)
	if err != nil {
		t.Fatal(err)
	}
	v3, _ := SliverVethName("node-7", 3, 0)
	names := map[string]Link{}
	for _, l := range c.Links {
		names[l.Name] = l
	}
	if l, ok := names[v3]; !ok || l.Kind != External || l.Master != "nkpriv" || l.Shaping == nil || l.Shaping.Rate != 2e6 {
		t.Errorf("sliver 3's private veth %s: %+v", v3, l)
	}
	if _, ok := names["nkpriv"]; !ok {
		t.Errorf("no private bridge in %+v", c.Links)
	}
	if len(c.Firewall.NAT) != 1 || len(c.Firewall.Isolate) != 4 {
		t.Errorf("firewall %+v, want one NAT and isolation of the bridge and three ports", c.Firewall)
	}
}

func TestSliverNetwork(t *testing.T) {
	n := SliverNet{Node: "node-7", PublicBridge: "br-lan", Public4First: ip("10.5.0.10"), Public4Last: ip("10.5.0.11"), Public4Bits: 24,
		Public4Gateway: ip("10.5.0.1"), Public6Prefix: pfx("2001:db8:5::/64"), ManagementPrefix: pfx("fd65:1234:5678::/48"),
		IsolatedParents: []string{"eth1"}}
	specs := []SliverSpec{
		{ID: 1, Ifaces: []SliverIfaceSpec{{Kind: Private}, {Kind: Public4}, {Kind: Public6}, {Kind: Debug}, {Kind: Management},
			{Kind: Isolated, Parent: "eth1", VLAN: 0x123}, {Kind: Isolated, Parent: "eth1", VLAN: 0x124}}},
		{ID: 2, Ifaces: []SliverIfaceSpec{{Kind: Private, Shaping: &Shaping{Qdisc: "tbf", Rate: 1e6}}, {Kind: Public4}}},
	}
	c, ifaces, err := n.Network(specs)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("the derived config is invalid: %v", err)
	}
	again, ifaces2, _ := n.Network(specs)
	a, _ := json.Marshal([]any{c, ifaces})
	b, _ := json.Marshal([]any{again, ifaces2})
	if string(a) != string(b) {
		t.Errorf("Network is not deterministic")
	}
	nn := NodeNumber("node-7")
	s1 := ifaces[1]
	checks := []struct {
		what, got, want string
	}{
		{"private address", s1[0].IPv4, "10.157.0.2/16"},
		{"private gateway", s1[0].Gateway4, "10.157.0.1"},
		{"private bridge", s1[0].Bridge, "nkpriv"},
		{"private inner name", s1[0].Inner, "priv"},
		{"public4 address", s1[1].IPv4, "10.5.0.10/24"},
		{"sliver 2 public4 address", ifaces[2][1].IPv4, "10.5.0.11/24"},
		{"sliver 2 private address", ifaces[2][0].IPv4, "10.157.0.3/16"},
		{"public6 address", s1[2].IPv6, netip.PrefixFrom(in64(pfx("2001:db8:5::/64"), 0x6e6b<<48|uint64(nn)<<32|1<<16|3), 64).String()},
		{"debug bridge", s1[3].Bridge, "nkdbg"},
		{"management bridge", s1[4].Bridge, "nkmgmt"},
		{"isolated vlan", s1[5].Inner, "iso0"},
		{"second isolated", s1[6].Inner, "iso1"},
		{"isolated has no host veth", s1[5].HostVeth, ""},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.what, ch.got, ch.want)
		}
	}
	mac, _ := SliverMAC("node-7", 1, 2)
	if s1[1].MAC != mac.String() {
		t.Errorf("public4 MAC %s, want %s", s1[1].MAC, mac)
	}
	veth, _ := SliverVethName("node-7", 2, 0)
	if ifaces[2][0].HostVeth != veth {
		t.Errorf("sliver 2 private veth %s, want %s", ifaces[2][0].HostVeth, veth)
	}
	if !strings.HasPrefix(s1[4].IPv6, "fd65:1234:5678:") {
		t.Errorf("management address %s not in the node's /64 of the /48", s1[4].IPv6)
	}

	bad := []struct {
		name    string
		n       SliverNet
		specs   []SliverSpec
		wantErr string
	}{
		{"no node", SliverNet{}, nil, "no node id"},
		{"public range exhausted", n, []SliverSpec{{ID: 3, Ifaces: []SliverIfaceSpec{{Kind: Public4}}}}, "no address for sliver 3"},
		{"two privates", n, []SliverSpec{{ID: 1, Ifaces: []SliverIfaceSpec{{Kind: Private}, {Kind: Private}}}}, "at most one"},
		{"no public bridge", SliverNet{Node: "x"}, []SliverSpec{{ID: 1, Ifaces: []SliverIfaceSpec{{Kind: Public4}}}}, "no public bridge"},
		{"vlan tag", n, []SliverSpec{{ID: 1, Ifaces: []SliverIfaceSpec{{Kind: Isolated, Parent: "eth1", VLAN: 5}}}}, "out of range"},
		{"not a direct iface", n, []SliverSpec{{ID: 1, Ifaces: []SliverIfaceSpec{{Kind: Isolated, Parent: "eth0", VLAN: 0x100}}}}, "direct interfaces"},
		{"private full", SliverNet{Node: "x", PrivatePrefix: pfx("10.0.0.0/30")}, []SliverSpec{{ID: 2, Ifaces: []SliverIfaceSpec{{Kind: Private}}}}, "no address for sliver 2"},
		{"sliver twice", n, []SliverSpec{{ID: 1}, {ID: 1}}, "twice"},
		{"management without prefix", SliverNet{Node: "x"}, []SliverSpec{{ID: 1, Ifaces: []SliverIfaceSpec{{Kind: Management}}}}, "management prefix"},
	}
	for _, tt := range bad {
		if _, _, err := tt.n.Network(tt.specs); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: Network = %v, want an error containing %q", tt.name, err, tt.wantErr)
		}
	}
}

// FuzzParseDesired: any input gives a valid Config or an error, never a
// panic, and what is accepted survives a JSON round trip.
func FuzzParseDesired(f *testing.F) {
	f.Add([]byte(`{"links":[{"name":"nkbr","kind":"bridge","addrs":["10.0.0.1/24"],"shaping":{"qdisc":"tbf","rate":1000000}}],"routes":[{"dst":"10.1.0.0/16","via":"10.0.0.2"}]}`))
	f.Add([]byte(`[{"type":"bridge","name":"nkbr","options":{"mtu":["1400"],"rate":["1mbit"]}},{"type":"sliver_net","name":"n","options":{"node":["a"]}},{"type":"sliver_iface","name":"i","options":{"sliver":["2"],"type":["private"]}}]`))
	f.Add([]byte(`[{"type":"overlay","name":"nkvx","options":{"vni":["7"],"peeraddr":["192.0.2.1"],"latency":["5ms"]}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseDesired(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted an invalid config: %v", err)
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseDesired(out)
		if err != nil {
			t.Fatalf("round trip of %s: %v", out, err)
		}
		again, _ := json.Marshal(back)
		if string(again) != string(out) {
			t.Fatalf("round trip changed the config:\n%s\n%s", out, again)
		}
	})

}
