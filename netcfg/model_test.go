package netcfg

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }

func TestValidate(t *testing.T) {
	p := netip.MustParsePrefix
	br := Link{Name: "nkbr", Kind: Bridge}
	tests := []struct {
		name    string
		c       Config
		wantErr string
	}{
		{"empty", Config{}, ""},
		{"bridge and veth", Config{Links: []Link{br, {Name: "nkv", Kind: Veth, Master: "nkbr", Peer: &VethPeer{Name: "nkvp"}}}}, ""},
		{"foreign name", Config{Links: []Link{{Name: "eth0", Kind: Bridge}}}, `does not start with "nk"`},
		{"long name", Config{Links: []Link{{Name: "nk0123456789abcd", Kind: Bridge}}}, "15 characters"},
		{"unknown kind", Config{Links: []Link{{Name: "nkx", Kind: "bond"}}}, "unknown kind"},
		{"duplicate", Config{Links: []Link{br, br}}, "used twice"},
		{"peer clashes", Config{Links: []Link{br, {Name: "nkv", Kind: Veth, Peer: &VethPeer{Name: "nkbr"}}}}, "used twice"},
		{"veth without peer", Config{Links: []Link{{Name: "nkv", Kind: Veth}}}, "needs a peer"},
		{"local peer without prefix", Config{Links: []Link{{Name: "nkv", Kind: Veth, Peer: &VethPeer{Name: "eth1"}}}}, "must start with"},
		{"peer elsewhere may be any name", Config{Links: []Link{{Name: "nkv", Kind: Veth, Peer: &VethPeer{Name: "eth0", NetNS: "x"}}}}, ""},
		{"peer elsewhere has no addresses", Config{Links: []Link{{Name: "nkv", Kind: Veth, Peer: &VethPeer{Name: "eth0", PID: 1, Addrs: []netip.Prefix{p("10.0.0.1/24")}}}}}, "owner's"},
		{"master is a veth", Config{Links: []Link{{Name: "nkv", Kind: Veth, Peer: &VethPeer{Name: "nkvp"}}, {Name: "nkw", Kind: Veth, Master: "nkv", Peer: &VethPeer{Name: "nkwp"}}}}, "not a bridge"},
		{"bridge in bridge", Config{Links: []Link{br, {Name: "nkb2", Kind: Bridge, Master: "nkbr"}}}, "cannot be a port"},
		{"mtu", Config{Links: []Link{{Name: "nkbr", Kind: Bridge, MTU: 20}}}, "MTU 20"},
		{"mac", Config{Links: []Link{{Name: "nkbr", Kind: Bridge, MAC: "01:00:00:00:00:01"}}}, "multicast"},
		{"link-local address", Config{Links: []Link{{Name: "nkbr", Kind: Bridge, Addrs: []netip.Prefix{p("fe80::1/64")}}}}, "link-local"},
		{"v6 on a down link", Config{Links: []Link{{Name: "nkbr", Kind: Bridge, Down: true, Addrs: []netip.Prefix{p("fd00::1/64")}}}}, "down"},
		{"vxlan vni", Config{Links: []Link{{Name: "nkx", Kind: VXLAN, VXLAN: &VXLANOpts{VNI: 0}}}}, "vni 0"},
		{"vxlan remote and group", Config{Links: []Link{{Name: "nkx", Kind: VXLAN, VXLAN: &VXLANOpts{VNI: 1, Remote: ip("10.0.0.1"), Group: ip("239.1.1.1")}}}}, "not both"},
		{"vxlan on its own master", Config{Links: []Link{br, {Name: "nkx", Kind: VXLAN, Master: "nkbr", VXLAN: &VXLANOpts{VNI: 1, Dev: "nkbr"}}}}, "both"},
		{"vlan id", Config{Links: []Link{{Name: "nkx", Kind: VLAN, VLAN: &VLANOpts{Parent: "eth0", ID: 4095}}}}, "4095"},
		{"macvlan mode", Config{Links: []Link{{Name: "nkx", Kind: Macvlan, Macvlan: &MacvlanOpts{Parent: "eth0", Mode: "x"}}}}, "mode"},
		{"options of another kind", Config{Links: []Link{{Name: "nkx", Kind: Bridge, VLAN: &VLANOpts{Parent: "eth0", ID: 5}}}}, "vlan options"},
		{"external with addresses", Config{Links: []Link{{Name: "nkx", Kind: External, Addrs: []netip.Prefix{p("10.0.0.1/24")}}}}, "external"},
		{"shaping qdisc", Config{Links: []Link{{Name: "nkbr", Kind: Bridge, Shaping: &Shaping{Qdisc: "sfq", Rate: 1e6}}}}, "tbf or htb"},
		{"shaping burst", Config{Links: []Link{{Name: "nkbr", Kind: Bridge, Shaping: &Shaping{Qdisc: "tbf", Rate: 1e6, Burst: 100}}}}, "burst"},
		{"route host bits", Config{Routes: []Route{{Dst: p("10.0.0.1/8"), Dev: "eth0"}}}, "host bits"},
		{"route without way", Config{Routes: []Route{{Dst: p("10.0.0.0/8")}}}, "via"},
		{"route families", Config{Routes: []Route{{Dst: p("10.0.0.0/8"), Via: ip("fd00::1")}}}, "families"},
		{"route twice", Config{Routes: []Route{{Dst: p("10.0.0.0/8"), Dev: "eth0"}, {Dst: p("10.0.0.0/8"), Dev: "eth1"}}}, "twice"},
		{"route through a down link", Config{Links: []Link{{Name: "nkbr", Kind: Bridge, Down: true}}, Routes: []Route{{Dst: p("10.0.0.0/8"), Dev: "nkbr"}}}, "down"},
		{"nat prefix", Config{Firewall: Firewall{NAT: []NAT{{Source: p("10.0.0.1/24")}}}}, "not a network prefix"},
		{"isolation mode", Config{Firewall: Firewall{Isolate: []Isolation{{Link: "nkbr", Mode: "open"}}}}, "mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRates(t *testing.T) {
	rates := []struct {
		in   string
		want uint64
		err  bool
	}{
		{"10mbit", 10e6, false}, {"512kbit", 512e3, false}, {"1gbit", 1e9, false}, {"1.5mbit", 15e5, false},
		{"100mbps", 800e6, false}, {"2kibit", 2048, false}, {"64000", 64000, false}, {" 10Mbit ", 10e6, false},
		{"", 0, true}, {"fast", 0, true}, {"-1mbit", 0, true}, {"1e9bit", 0, true}, {"mbit", 0, true},
	}
	for _, r := range rates {
		got, err := ParseRate(r.in)
		if (err != nil) != r.err || got != r.want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d (error %v)", r.in, got, err, r.want, r.err)
		}
	}
	sizes := []struct {
		in   string
		want uint64
		err  bool
	}{{"32k", 32 << 10, false}, {"32kb", 32 << 10, false}, {"1m", 1 << 20, false}, {"1500b", 1500, false}, {"1500", 1500, false}, {"x", 0, true}}
	for _, s := range sizes {
		got, err := ParseSize(s.in)
		if (err != nil) != s.err || got != s.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d (error %v)", s.in, got, err, s.want, s.err)
		}
	}
	for in, want := range map[uint64]string{10e6: "10mbit", 1e9: "1gbit", 1500: "1500bit", 2e3: "2kbit"} {
		if got := FormatRate(in); got != want {
			t.Errorf("FormatRate(%d) = %q, want %q", in, got, want)
		}
		if back, err := ParseRate(FormatRate(in)); err != nil || back != in {
			t.Errorf("ParseRate(FormatRate(%d)) = %d, %v", in, back, err)
		}
	}
}

func TestFlapCounter(t *testing.T) {
	f := newFlapCounter(10*time.Second, 3)
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at      time.Duration
		link    string
		count   int
		started bool
	}{
		{0, "a", 1, false},
		{time.Second, "a", 2, false},
		{2 * time.Second, "b", 1, false},
		{3 * time.Second, "a", 3, true},
		{4 * time.Second, "a", 4, false}, // still flapping: no second start
		{30 * time.Second, "a", 1, false},
		{31 * time.Second, "a", 2, false},
		{32 * time.Second, "a", 3, true}, // a new episode
	}
	for i, s := range steps {
		count, started := f.record(s.link, t0.Add(s.at))
		if count != s.count || started != s.started {
			t.Errorf("step %d (%s at %s): count %d started %v, want %d %v", i, s.link, s.at, count, started, s.count, s.started)
		}
	}
}

func TestActionInverse(t *testing.T) {
	acts := []action{
		{op: opLinkCreate, link: &Link{Name: "nkx"}},
		{op: opLinkSet, name: "nkx", attr: "mtu", from: "1500", to: "1400"},
		{op: opAddrAdd, name: "nkx", addr: pfx("10.0.0.1/24")},
		{op: opRouteAdd, route: Route{Dst: pfx("10.0.0.0/8"), Dev: "nkx"}},
		{op: opRouteReplace, route: Route{Dst: pfx("10.0.0.0/8"), Dev: "nkx"}, oldRoute: Route{Dst: pfx("10.0.0.0/8"), Dev: "nky"}},
		{op: opShaping, name: "nkx", shaping: &Shaping{Qdisc: "tbf", Rate: 8}},
		{op: opFirewall, fw: Firewall{NAT: []NAT{{Source: pfx("10.0.0.0/8")}}}},
	}
	for _, a := range acts {
		b := a.inverse()
		if b.op == a.op && b.op != opLinkSet && b.op != opRouteReplace && b.op != opShaping && b.op != opFirewall {
			t.Errorf("inverse of op %d is itself", a.op)
		}
		c := b.inverse()
		if c.op != a.op || c.from != a.from || c.to != a.to || c.route != a.route || c.oldRoute != a.oldRoute || c.shaping != a.shaping {
			t.Errorf("inverse of inverse of %+v is %+v", a, c)
		}
	}
}

func TestPlanOutput(t *testing.T) {
	p := &Plan{Steps: []Step{
		{Op: "create", Object: "link nkbr", Detail: "bridge, up"},
		{Op: "delete", Object: "link nkv", Detail: "veth", Irreversible: true},
	}, Warnings: []string{"external link nkx is absent"}}
	want := "2 change(s):\n  1. create  link nkbr: bridge, up\n  2. delete  link nkv: veth (cannot be undone)\nwarning: external link nkx is absent\n"
	if got := p.String(); got != want {
		t.Errorf("String:\n%s\nwant:\n%s", got, want)
	}
	var back struct {
		Steps []struct {
			Op, Object, Detail string
			Irreversible       bool
		}
		Warnings []string
	}
	if err := json.Unmarshal(p.JSON(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Steps) != 2 || back.Steps[1].Object != "link nkv" || !back.Steps[1].Irreversible || back.Warnings[0] != p.Warnings[0] {
		t.Errorf("JSON round trip: %+v", back)
	}
	if got := string((&Plan{}).JSON()); !strings.Contains(got, `"steps": []`) {
		t.Errorf("empty plan JSON %s, want an empty steps list", got)
	}
	if got := (&Plan{}).String(); got != "no changes\n" {
		t.Errorf("empty plan: %q", got)
	}
}
