package netcfg

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// kernelLink reads a link back through the netlink library's own parser.
func kernelLink(t *testing.T, m *Manager, name string) netlink.Link {
	t.Helper()
	l, err := m.h.LinkByName(name)
	if err != nil {
		t.Fatalf("link %s: %v", name, err)
	}
	return l
}

// checkLink compares what the kernel has with the desired link.
func checkLink(t *testing.T, m *Manager, want Link) {
	t.Helper()
	l := kernelLink(t, m, want.Name)
	a := l.Attrs()
	kind := l.Type()
	if tt, ok := l.(*netlink.Tuntap); ok && tt.Mode == netlink.TUNTAP_MODE_TAP {
		kind = "tap"
	}
	if kind != string(want.Kind) {
		t.Errorf("%s: kind %s, want %s", want.Name, kind, want.Kind)
	}
	if a.Group != OwnerGroup {
		t.Errorf("%s: group %#x, want nodekeeper's %#x", want.Name, a.Group, OwnerGroup)
	}
	if want.MTU != 0 && a.MTU != want.MTU {
		t.Errorf("%s: mtu %d, want %d", want.Name, a.MTU, want.MTU)
	}
	if up := a.Flags&net.FlagUp != 0; up == want.Down {
		t.Errorf("%s: up %v, want %v", want.Name, up, !want.Down)
	}
	master := ""
	if a.MasterIndex != 0 {
		mi, err := m.h.LinkByIndex(a.MasterIndex)
		if err != nil {
			t.Fatal(err)
		}
		master = mi.Attrs().Name
	}
	if master != want.Master {
		t.Errorf("%s: master %q, want %q", want.Name, master, want.Master)
	}
	checkKernelAddrs(t, m, l, want.Addrs)
	switch v := l.(type) {
	case *netlink.Veth:
		peer, err := m.h.LinkByIndex(a.ParentIndex)
		if err != nil || peer.Attrs().Name != want.Peer.Name {
			t.Errorf("%s: peer %v (%v), want %s", want.Name, peer, err, want.Peer.Name)
		} else {
			checkKernelAddrs(t, m, peer, want.Peer.Addrs)
		}
	case *netlink.Vxlan:
		w := want.VXLAN.norm()
		if v.VxlanId != w.VNI || v.Port != w.Port || v.TTL != w.TTL || !v.Group.Equal(net.IP(w.Remote.AsSlice())) {
			t.Errorf("%s: vxlan id %d port %d ttl %d remote %s, want %+v", want.Name, v.VxlanId, v.Port, v.TTL, v.Group, w)
		}
	case *netlink.Macvlan:
		if got := macvlanModeName[v.Mode]; got != want.Macvlan.mode() {
			t.Errorf("%s: macvlan mode %s, want %s", want.Name, got, want.Macvlan.mode())
		}
	case *netlink.Vlan:
		if v.VlanId != want.VLAN.ID {
			t.Errorf("%s: vlan id %d, want %d", want.Name, v.VlanId, want.VLAN.ID)
		}
	case *netlink.Gretun:
		if !v.Remote.Equal(net.IP(want.GRE.Remote.AsSlice())) || int(v.Ttl) != want.GRE.TTL {
			t.Errorf("%s: gre remote %s ttl %d, want %+v", want.Name, v.Remote, v.Ttl, want.GRE)
		}
	}
}

func checkKernelAddrs(t *testing.T, m *Manager, l netlink.Link, want []netip.Prefix) {
	t.Helper()
	addrs, err := m.h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range addrs {
		if p, ok := prefixOf(a.IPNet); ok && !p.Addr().IsLinkLocalUnicast() {
			got = append(got, p.String())
		}
	}
	var w []string
	for _, p := range want {
		w = append(w, p.String())
	}
	slices.Sort(got)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		t.Errorf("%s: addresses %v, want %v", l.Attrs().Name, got, w)
	}
}

// TestLinkKinds creates, changes and deletes a link of each kind and reads
// the kernel's state after each step. Kinds the kernel lacks are skipped
// with "kernel lacks KIND"; on a kernel that has them they must pass.
func TestLinkKinds(t *testing.T) {
	base := Link{Name: "nkbase", Kind: Bridge, Addrs: []netip.Prefix{pfx("10.60.0.1/24")}}
	tests := []struct {
		kind           Kind
		create, change Link
	}{
		{Bridge,
			Link{Name: "nkk", Kind: Bridge, MTU: 1400, Addrs: []netip.Prefix{pfx("10.61.0.1/24"), pfx("fd00:61::1/64")}},
			Link{Name: "nkk", Kind: Bridge, MTU: 1300, Down: true, Addrs: []netip.Prefix{pfx("10.61.1.1/24")}}},
		{Veth,
			Link{Name: "nkk", Kind: Veth, Master: "nkbase", Peer: &VethPeer{Name: "nkkp", Addrs: []netip.Prefix{pfx("10.60.0.2/24")}}},
			Link{Name: "nkk", Kind: Veth, MTU: 1280, Peer: &VethPeer{Name: "nkkp", Addrs: []netip.Prefix{pfx("10.60.0.3/24")}}}},
		{VXLAN,
			Link{Name: "nkk", Kind: VXLAN, VXLAN: &VXLANOpts{VNI: 7, Remote: ip("10.60.0.9"), Port: 4790, TTL: 5, Dev: "nkbase"}},
			Link{Name: "nkk", Kind: VXLAN, MTU: 1400, VXLAN: &VXLANOpts{VNI: 8, Remote: ip("10.60.0.10"), Dev: "nkbase"}}},
		{Macvlan,
			Link{Name: "nkk", Kind: Macvlan, Macvlan: &MacvlanOpts{Parent: "nkbase"}, Addrs: []netip.Prefix{pfx("10.60.0.5/24")}},
			Link{Name: "nkk", Kind: Macvlan, Macvlan: &MacvlanOpts{Parent: "nkbase", Mode: "private"}, MTU: 1400}},
		{Tap,
			Link{Name: "nkk", Kind: Tap},
			Link{Name: "nkk", Kind: Tap, MTU: 1400, Master: "nkbase"}},
		{VLAN,
			Link{Name: "nkk", Kind: VLAN, VLAN: &VLANOpts{Parent: "nkbase", ID: 100}},
			Link{Name: "nkk", Kind: VLAN, VLAN: &VLANOpts{Parent: "nkbase", ID: 101}, MTU: 1400}},
		{Dummy,
			Link{Name: "nkk", Kind: Dummy, Addrs: []netip.Prefix{pfx("10.62.0.1/32")}},
			Link{Name: "nkk", Kind: Dummy, Down: true}},
		{GRE,
			Link{Name: "nkk", Kind: GRE, GRE: &GREOpts{Remote: ip("10.60.0.20"), TTL: 64}},
			Link{Name: "nkk", Kind: GRE, GRE: &GREOpts{Remote: ip("10.60.0.21"), TTL: 32}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			needRoot(t)
			if !kernelHas(t, string(tt.kind)) {
				t.Skipf("kernel lacks %s", tt.kind)
			}
			ns := newNS(t)
			m := open(t, ns)
			ctx := context.Background()
			for _, step := range []struct {
				what string
				link *Link
			}{{"create", &tt.create}, {"change", &tt.change}, {"delete", nil}} {
				c := Config{Links: []Link{base}}
				if step.link != nil {
					c.Links = append(c.Links, *step.link)
				}
				if _, err := m.Sync(ctx, c); err != nil {
					t.Fatalf("%s: %v", step.what, err)
				}
				checkLink(t, m, base)
				if step.link != nil {
					checkLink(t, m, *step.link)
				} else if _, err := m.h.LinkByName("nkk"); err == nil {
					t.Errorf("delete: link nkk still there")
				}
				if p, err := m.Plan(ctx, c); err != nil || !p.Empty() {
					t.Fatalf("%s: plan after apply: %v\n%s", step.what, err, p)
				}
			}
		})
	}
}

var refcnt = regexp.MustCompile(` refcnt \d+`)

// TestRoutesQdiscsNAT creates, changes and deletes routes (v4 and v6, main
// and another table), shaping (tbf and htb) and NAT, reading each back with
// ip, tc and nft.
func TestRoutesQdiscsNAT(t *testing.T) {
	ns := newNS(t)
	m := open(t, ns)
	ctx := context.Background()
	links := []Link{
		{Name: "nkr", Kind: Bridge, Addrs: []netip.Prefix{pfx("10.70.0.1/24"), pfx("fd00:70::1/64")}},
		{Name: "nks", Kind: Veth, Master: "nkr", Peer: &VethPeer{Name: "nksp"}},
	}
	steps := []struct {
		name           string
		routes         []Route
		shaping        *Shaping
		nat            []NAT
		wantRoutes     []string // in `ip route show table all` / `ip -6 route`
		wantQdisc      string   // in `tc qdisc show dev nks`
		wantClass      string   // in `tc class show dev nks`
		wantNAT        []string // in `nft list ruleset`
		missingRoutes  []string
		missingRuleset []string
	}{
		{
			name: "create",
			routes: []Route{
				{Dst: pfx("10.71.0.0/16"), Via: ip("10.70.0.2")},
				{Dst: pfx("fd00:71::/48"), Via: ip("fd00:70::2")},
				{Dst: pfx("10.72.0.0/16"), Dev: "nkr", Table: 100, Metric: 5},
			},
			shaping:    &Shaping{Qdisc: "tbf", Rate: 10e6, Burst: 32 << 10, Latency: 20e6},
			nat:        []NAT{{Source: pfx("10.70.0.0/24"), Bridge: "nkr"}},
			wantRoutes: []string{"10.71.0.0/16 via 10.70.0.2 dev nkr proto 110", "fd00:71::/48 via fd00:70::2 dev nkr proto 110 metric 1024", "10.72.0.0/16 dev nkr table 100 proto 110 scope link metric 5"},
			wantQdisc:  "qdisc tbf 1: root rate 10Mbit burst 32Kb lat 20ms",
			wantNAT:    []string{`ip saddr 10.70.0.0/24 oifname != "nkr" masquerade`},
		},
		{
			name: "change",
			routes: []Route{
				{Dst: pfx("10.71.0.0/16"), Via: ip("10.70.0.3")},
				{Dst: pfx("10.72.0.0/16"), Dev: "nkr", Table: 100, Metric: 5},
			},
			shaping:        &Shaping{Qdisc: "htb", Rate: 2e6},
			nat:            []NAT{{Source: pfx("10.70.0.0/25")}, {Source: pfx("fd00:70::/64"), Bridge: "nkr"}},
			wantRoutes:     []string{"10.71.0.0/16 via 10.70.0.3 dev nkr proto 110", "10.72.0.0/16 dev nkr table 100 proto 110 scope link metric 5"},
			missingRoutes:  []string{"fd00:71::/48", "10.70.0.2 "},
			wantQdisc:      "qdisc htb 1: root r2q 10 default 0x1",
			wantClass:      "class htb 1:1 root prio 0 rate 2Mbit ceil 2Mbit burst 2500b cburst 2500b",
			wantNAT:        []string{`ip saddr 10.70.0.0/25 masquerade`, `ip6 saddr fd00:70::/64 oifname != "nkr" masquerade`},
			missingRuleset: []string{"10.70.0.0/24"},
		},
		{
			name:           "delete",
			wantQdisc:      "qdisc noqueue 0: root",
			missingRoutes:  []string{"proto 110"},
			missingRuleset: []string{"nodekeeper"},
		},
	}
	for _, s := range steps {
		ls := slices.Clone(links)
		ls[1].Shaping = s.shaping
		c := Config{Links: ls, Routes: s.routes, Firewall: Firewall{NAT: s.nat}}
		p, err := m.Sync(ctx, c)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		t.Logf("%s:\n%s", s.name, p)
		routes := nsExec(t, ns, "ip", "route", "show", "table", "all") + nsExec(t, ns, "ip", "-6", "route", "show", "table", "all")
		for _, r := range s.wantRoutes {
			if !strings.Contains(routes, r) {
				t.Errorf("%s: no route %q in\n%s", s.name, r, routes)
			}
		}
		for _, r := range s.missingRoutes {
			if strings.Contains(routes, r) {
				t.Errorf("%s: route %q still there:\n%s", s.name, r, routes)
			}
		}
		// refcnt counts the link's queues besides: left out.
		q := refcnt.ReplaceAllString(nsExec(t, ns, "tc", "qdisc", "show", "dev", "nks"), "")
		if !strings.Contains(q, s.wantQdisc) {
			t.Errorf("%s: qdisc %q, want %q", s.name, q, s.wantQdisc)
		}
		if s.wantClass != "" {
			if q := nsExec(t, ns, "tc", "class", "show", "dev", "nks"); !strings.Contains(q, s.wantClass) {
				t.Errorf("%s: class %q, want %q", s.name, q, s.wantClass)
			}
		}
		rules := nsExec(t, ns, "nft", "list", "ruleset")
		for _, r := range s.wantNAT {
			if !strings.Contains(rules, r) {
				t.Errorf("%s: no rule %q in\n%s", s.name, r, rules)
			}
		}
		for _, r := range s.missingRuleset {
			if strings.Contains(rules, r) {
				t.Errorf("%s: %q still in the ruleset:\n%s", s.name, r, rules)
			}
		}
		if p, err := m.Plan(ctx, c); err != nil || !p.Empty() {
			t.Fatalf("%s: plan after apply: %v\n%s", s.name, err, p)
		}
	}
	_ = unix.AF_INET
}

// TestVethPeerElsewhere moves a veth's peer into another namespace, by name
// and by a process's pid, at creation; the plan after is empty, and
// deleting the pair is the one step marked irreversible.
func TestVethPeerElsewhere(t *testing.T) {
	ns, other := newNS(t), newNS(t)
	m := open(t, ns)
	ctx := context.Background()
	sleeper := exec.Command("ip", "netns", "exec", other, "sleep", "300")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
	// Wait until the sleeper is in the other namespace (ip netns exec
	// has to start first: generous, for a loaded machine).
	for deadline := time.Now().Add(time.Minute); ; {
		link, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", sleeper.Process.Pid))
		want, _ := os.Stat("/run/netns/" + other)
		got, _ := os.Stat(fmt.Sprintf("/proc/%d/ns/net", sleeper.Process.Pid))
		if want != nil && got != nil && os.SameFile(want, got) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sleeper not in namespace %s (%s)", other, link)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := Config{Links: []Link{
		{Name: "nkbr", Kind: Bridge},
		{Name: "nkc1", Kind: Veth, Master: "nkbr", Peer: &VethPeer{Name: "eth0", NetNS: other, MAC: "6e:6b:00:00:00:01"}},
		{Name: "nkc2", Kind: Veth, Master: "nkbr", Peer: &VethPeer{Name: "eth1", PID: sleeper.Process.Pid, MTU: 1400}},
	}}
	if _, err := m.Sync(ctx, c); err != nil {
		t.Fatal(err)
	}
	inner := nsExec(t, other, "ip", "link", "show")
	if !strings.Contains(inner, "eth0@") || !strings.Contains(inner, "6e:6b:00:00:00:01") || !strings.Contains(inner, "eth1@") || !strings.Contains(inner, "mtu 1400") {
		t.Fatalf("peers not in the other namespace:\n%s", inner)
	}
	if p, err := m.Plan(ctx, c); err != nil || !p.Empty() {
		t.Fatalf("plan after apply: %v\n%s", err, p)
	}
	obs, err := m.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := m.Plan(ctx, obs); err != nil || !p.Empty() {
		t.Fatalf("plan of the observed state: %v\n%s", err, p)
	}
	p, err := m.Plan(ctx, Config{Links: []Link{{Name: "nkbr", Kind: Bridge, MTU: 1400}}})
	if err != nil {
		t.Fatal(err)
	}
	n := len(p.Steps)
	if n < 2 || !p.Steps[n-1].Irreversible || !p.Steps[n-2].Irreversible || p.Steps[0].Irreversible {
		t.Fatalf("deleting pairs with peers elsewhere: want those two steps last and marked:\n%s", p)
	}
	if err := m.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	if inner := nsExec(t, other, "ip", "link", "show"); strings.Contains(inner, "eth0") || strings.Contains(inner, "eth1") {
		t.Fatalf("peers left behind:\n%s", inner)
	}
}
