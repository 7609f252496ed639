package netcfg

import (
	"context"
	"errors"
	"net/netip"
	"regexp"
	"strings"
	"testing"
)

// foreignState puts links, addresses, routes, a qdisc and an nftables table
// in ns that nodekeeper did not create, some named with its own prefix.
func foreignState(t *testing.T, ns string) {
	for _, c := range [][]string{
		{"ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"},
		{"ip", "link", "set", "eth0", "up"},
		{"ip", "addr", "add", "10.90.0.1/24", "dev", "eth0"},
		{"ip", "route", "add", "10.91.0.0/16", "via", "10.90.0.2", "proto", "static"},
		{"ip", "link", "add", "br-lan", "type", "bridge"},
		{"ip", "link", "set", "br-lan", "up", "mtu", "1450", "address", "02:00:00:00:00:01"},
		// Someone else's link with nodekeeper's prefix (no group mark).
		{"ip", "link", "add", "nkforeign", "type", "bridge"},
		{"ip", "addr", "add", "10.92.0.1/24", "dev", "nkforeign"},
		{"tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", "1mbit", "burst", "32k", "latency", "50ms"},
		{"nft", "add", "table", "inet", "fw4"},
		{"nft", "add", "chain", "inet", "fw4", "input", "{ type filter hook input priority 0; }"},
		{"nft", "add", "rule", "inet", "fw4", "input", "iifname", "eth0", "accept"},
	} {
		nsExec(t, ns, c...)
	}
}

// foreignDump shows the foreign state: the foreign links, their addresses
// and qdiscs, the routes that are not nodekeeper's and the foreign table.
func foreignDump(t *testing.T, ns string) string {
	var b strings.Builder
	for _, dev := range []string{"eth0", "eth0p", "br-lan", "nkforeign"} {
		b.WriteString(normalize(nsExec(t, ns, "ip", "-d", "addr", "show", "dev", dev), false))
		b.WriteString(normalize(nsExec(t, ns, "tc", "qdisc", "show", "dev", dev), false))
	}
	// A link that gets a port or a macvlan gets a carrier (and with it
	// the kernel's IPv6 routes), counts one more promiscuous user and
	// recomputes its offload sizes: the kernel's doing, not a change.
	ours := regexp.MustCompile(`proto 110|nkbr|nkv|nkpub|nkmv|nkvx|ff00::/8`)
	var routes []string
	for _, l := range strings.Split(nsExec(t, ns, "ip", "route", "show", "table", "all"), "\n") {
		if !ours.MatchString(l) {
			routes = append(routes, l)
		}
	}
	b.WriteString(normalize(strings.Join(routes, "\n"), true))
	b.WriteString(nsExec(t, ns, "nft", "list", "table", "inet", "fw4"))
	return derived.ReplaceAllString(b.String(), "")
}

var derived = regexp.MustCompile(`(promiscuity|allmulti|[gt]so_max_\w+|gro_max_size) \d+`)

// TestOwnership shows that links, addresses, routes, qdiscs and rules that
// nodekeeper did not create stay untouched while it creates, changes and
// deletes everything it owns around them, and that it refuses to take
// them over.
func TestOwnership(t *testing.T) {
	ns := newNS(t)
	foreignState(t, ns)
	before := foreignDump(t, ns)
	if !strings.Contains(before, "nkforeign") || !strings.Contains(before, "fw4") {
		t.Fatalf("foreign state incomplete:\n%s", before)
	}
	m := open(t, ns)
	ctx := context.Background()
	configs := []Config{
		{
			Links: []Link{
				{Name: "nkbr", Kind: Bridge, Addrs: []netip.Prefix{pfx("10.93.0.1/24")}},
				{Name: "nkv", Kind: Veth, Master: "nkbr", Peer: &VethPeer{Name: "nkvp"}},
				// A port of someone else's bridge, and a macvlan on someone
				// else's link: references, not changes.
				{Name: "nkpub", Kind: Veth, Master: "br-lan", Peer: &VethPeer{Name: "nkpubp"}},
				{Name: "nkmv", Kind: Macvlan, Macvlan: &MacvlanOpts{Parent: "eth0"}},
				{Name: "nkvx", Kind: VXLAN, VXLAN: &VXLANOpts{VNI: 9, Remote: ip("10.90.0.2"), Dev: "eth0"}},
			},
			Routes:   []Route{{Dst: pfx("10.94.0.0/16"), Via: ip("10.90.0.2")}, {Dst: pfx("10.95.0.0/16"), Dev: "eth0"}},
			Firewall: Firewall{NAT: []NAT{{Source: pfx("10.93.0.0/24"), Bridge: "nkbr"}}},
		},
		{
			Links: []Link{
				{Name: "nkbr", Kind: Bridge, MTU: 1400, Addrs: []netip.Prefix{pfx("10.93.1.1/24")}},
				{Name: "nkpub", Kind: Veth, Peer: &VethPeer{Name: "nkpubp"}, Shaping: &Shaping{Qdisc: "tbf", Rate: 1e6}},
				{Name: "nkmv", Kind: Macvlan, Macvlan: &MacvlanOpts{Parent: "eth0", Mode: "vepa"}},
			},
			Routes:   []Route{{Dst: pfx("10.94.0.0/16"), Via: ip("10.90.0.3")}},
			Firewall: Firewall{Isolate: []Isolation{{Link: "nkbr", Mode: IsolatePrivate}}},
		},
		{},
	}
	for i, c := range configs {
		if _, err := m.Sync(ctx, c); err != nil {
			t.Fatalf("config %d: %v", i, err)
		}
		if after := foreignDump(t, ns); after != before {
			t.Fatalf("config %d changed what nodekeeper does not own:\n%s", i, lineDiff(before, after))
		}
	}

	refused := []struct {
		name string
		c    Config
	}{
		{"take over a foreign link with the prefix", Config{Links: []Link{{Name: "nkforeign", Kind: Bridge}}}},
		{"list a foreign link as its own kind", Config{Links: []Link{{Name: "nkforeign", Kind: Bridge, MTU: 1300}}}},
	}
	for _, r := range refused {
		if _, err := m.Plan(ctx, r.c); !errors.Is(err, ErrNotOwned) {
			t.Errorf("%s: Plan = %v, want ErrNotOwned", r.name, err)
		}
	}
	// A name outside the prefix is refused before the kernel is asked.
	if _, err := m.Plan(ctx, Config{Links: []Link{{Name: "eth0", Kind: Veth, Peer: &VethPeer{Name: "nkx"}}}}); err == nil || !strings.Contains(err.Error(), `does not start with "nk"`) {
		t.Errorf("Plan for eth0 = %v, want a refusal naming the prefix", err)
	}
	// A bridge of nodekeeper's with someone else's port is not deleted.
	if _, err := m.Sync(ctx, Config{Links: []Link{{Name: "nkbr", Kind: Bridge}}}); err != nil {
		t.Fatal(err)
	}
	nsExec(t, ns, "ip", "link", "set", "eth0p", "master", "nkbr")
	if _, err := m.Plan(ctx, Config{}); !errors.Is(err, ErrNotOwned) || !strings.Contains(err.Error(), "eth0p") {
		t.Errorf("deleting nkbr with port eth0p: %v, want ErrNotOwned naming eth0p", err)
	}
	nsExec(t, ns, "ip", "link", "set", "eth0p", "nomaster")
	if _, err := m.Sync(ctx, Config{}); err != nil {
		t.Fatal(err)
	}
	if after := foreignDump(t, ns); after != before {
		t.Fatalf("foreign state changed:\n%s", lineDiff(before, after))
	}
}

// TestExternalLinks attaches, shapes and releases a link another program
// made with nodekeeper's prefix (as LXC makes a sliver's veth) without
// ever deleting it.
func TestExternalLinks(t *testing.T) {
	ns := newNS(t)
	m := open(t, ns)
	ctx := context.Background()
	veth, err := SliverVethName("node-x", 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	bridge := Link{Name: "nkpriv", Kind: Bridge}
	ext := Link{Name: veth, Kind: External, Master: "nkpriv", MTU: 1400, Shaping: &Shaping{Qdisc: "tbf", Rate: 5e6}}
	p, err := m.Sync(ctx, Config{Links: []Link{bridge, ext}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], veth) {
		t.Errorf("absent external link: warnings %q, want one naming %s", p.Warnings, veth)
	}
	nsExec(t, ns, "ip", "link", "add", veth, "type", "veth", "peer", "name", "inner0")
	if _, err := m.Sync(ctx, Config{Links: []Link{bridge, ext}}); err != nil {
		t.Fatal(err)
	}
	out := nsExec(t, ns, "ip", "link", "show", veth)
	if !strings.Contains(out, "master nkpriv") || !strings.Contains(out, "mtu 1400") || !strings.Contains(out, "qdisc tbf") {
		t.Errorf("external link not attached, sized and shaped: %s", out)
	}
	if _, err := m.Sync(ctx, Config{}); err != nil {
		t.Fatal(err)
	}
	out = nsExec(t, ns, "ip", "link", "show", veth)
	if strings.Contains(out, "master") {
		t.Errorf("external link still attached after its bridge went: %s", out)
	}
	if _, err := m.Plan(ctx, Config{Links: []Link{{Name: veth, Kind: Veth, Peer: &VethPeer{Name: "nkinner0"}}}}); !errors.Is(err, ErrNotOwned) {
		t.Errorf("taking over the external link: %v, want ErrNotOwned", err)
	}
}
