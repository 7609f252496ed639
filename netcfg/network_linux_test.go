package netcfg

import (
	"context"
	"net/netip"
	"testing"
)

// wire joins two namespaces with a veth made by `ip` (not nodekeeper's),
// giving each end an address.
func wire(t *testing.T, nsA, devA, addrA, nsB, devB, addrB string) {
	t.Helper()
	nsExec(t, nsA, "ip", "link", "add", devA, "type", "veth", "peer", "name", devB, "netns", nsB)
	for _, e := range []struct{ ns, dev, addr string }{{nsA, devA, addrA}, {nsB, devB, addrB}} {
		if e.addr != "" {
			nsExec(t, e.ns, "ip", "addr", "add", e.addr, "dev", e.dev)
		}
		nsExec(t, e.ns, "ip", "link", "set", e.dev, "up")
	}
}

// TestVXLANOverlay: two namespaces joined by a veth, each with a vxlan
// overlay on it and a bridge: a ping crosses the overlay.
func TestVXLANOverlay(t *testing.T) {
	a, b := newNS(t), newNS(t)
	wire(t, a, "under", "10.80.0.1/24", b, "under", "10.80.0.2/24")
	ctx := context.Background()
	for _, side := range []struct {
		ns, self, remote string
	}{{a, "10.81.0.1/24", "10.80.0.2"}, {b, "10.81.0.2/24", "10.80.0.1"}} {
		m := open(t, side.ns)
		c := Config{Links: []Link{
			{Name: "nkmesh", Kind: Bridge, Addrs: []netip.Prefix{pfx(side.self)}},
			{Name: "nkvx100", Kind: VXLAN, Master: "nkmesh", VXLAN: &VXLANOpts{VNI: 100, Remote: ip(side.remote), Dev: "under"}},
		}}
		if _, err := m.Sync(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if !reaches(a, "10.81.0.2") {
		t.Fatalf("no ping from 10.81.0.1 to 10.81.0.2 across the overlay")
	}
	// It did cross the overlay: take it down and the ping fails.
	nsExec(t, b, "ip", "link", "set", "nkvx100", "down")
	if ping(a, "10.81.0.2") {
		t.Fatalf("ping still answered with the overlay down: it did not go through it")
	}
}

// sliver makes a namespace standing in for a sliver, with its interface as
// LXC would make it: a veth whose host end (hostVeth) stays on the node.
func sliver(t *testing.T, node, hostVeth, addr, gw string) string {
	t.Helper()
	s := newNS(t)
	nsExec(t, node, "ip", "link", "add", hostVeth, "type", "veth", "peer", "name", "eth0", "netns", s)
	nsExec(t, node, "ip", "link", "set", hostVeth, "up")
	nsExec(t, s, "ip", "addr", "add", addr, "dev", "eth0")
	nsExec(t, s, "ip", "link", "set", "eth0", "up")
	nsExec(t, s, "ip", "route", "add", "default", "via", gw)
	return s
}

// TestIsolation puts namespaces in the places of slivers: from a private
// interface the outside is reachable (through NAT: the outside has no
// route back to private addresses), the node's own addresses and other
// slivers are not; a public interface reaches its bridge's network only.
func TestIsolation(t *testing.T) {
	node, outside, community := newNS(t), newNS(t), newNS(t)
	nsExec(t, node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	wire(t, node, "wan", "10.200.0.1/24", outside, "wan", "10.200.0.2/24")
	nsExec(t, node, "ip", "route", "add", "default", "via", "10.200.0.2")

	sn := SliverNet{Node: "node-iso", PublicBridge: "nkpub",
		Public4First: ip("10.210.0.100"), Public4Last: ip("10.210.0.120"), Public4Bits: 24, Public4Gateway: ip("10.210.0.50")}
	desired, ifaces, err := sn.Network([]SliverSpec{
		{ID: 1, Ifaces: []SliverIfaceSpec{{Kind: Private}}},
		{ID: 2, Ifaces: []SliverIfaceSpec{{Kind: Private}}},
		{ID: 3, Ifaces: []SliverIfaceSpec{{Kind: Public4}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The community network's bridge: nodekeeper's here, with the node's
	// address and a port to the community (a host at .50).
	desired.Links = append([]Link{{Name: "nkpub", Kind: Bridge, Addrs: []netip.Prefix{pfx("10.210.0.1/24")}}}, desired.Links...)
	m := open(t, node)
	ctx := context.Background()
	unisolated := desired
	unisolated.Firewall = Firewall{NAT: desired.Firewall.NAT}
	if _, err := m.Sync(ctx, unisolated); err != nil {
		t.Fatal(err)
	}
	wire(t, node, "cn", "", community, "cn", "10.210.0.50/24")
	nsExec(t, node, "ip", "link", "set", "cn", "master", "nkpub")

	priv1 := ifaces[1][0]
	priv2 := ifaces[2][0]
	pub := ifaces[3][0]
	s1 := sliver(t, node, priv1.HostVeth, priv1.IPv4, priv1.Gateway4)
	s2 := sliver(t, node, priv2.HostVeth, priv2.IPv4, priv2.Gateway4)
	s3 := sliver(t, node, pub.HostVeth, pub.IPv4, pub.Gateway4)
	if _, err := m.Sync(ctx, unisolated); err != nil {
		t.Fatal(err)
	}
	addr := func(p string) string { return netip.MustParsePrefix(p).Addr().String() }

	// Without isolation the probes below reach what they must not: the
	// test can tell.
	for _, probe := range []struct{ from, to string }{{s1, "10.157.0.1"}, {s1, addr(priv2.IPv4)}, {s3, "10.210.0.1"}} {
		if !reaches(probe.from, probe.to) {
			t.Fatalf("without isolation, %s does not reach %s: the test could not see isolation work", probe.from, probe.to)
		}
	}

	if _, err := m.Sync(ctx, desired); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		from, to string
		reach    bool
	}{
		{"private reaches the outside through NAT", s1, "10.200.0.2", true},
		{"other private sliver reaches the outside", s2, "10.200.0.2", true},
		{"private does not reach the node's gateway address", s1, "10.157.0.1", false},
		{"private does not reach the node's outside address", s1, "10.200.0.1", false},
		{"private does not reach the node's public address", s1, "10.210.0.1", false},
		{"private does not reach another sliver's private address", s1, addr(priv2.IPv4), false},
		{"public reaches its bridge's network", s3, "10.210.0.50", true},
		{"public does not reach the node", s3, "10.210.0.1", false},
		{"public does not reach beyond its bridge", s3, "10.200.0.2", false},
		{"public does not reach private slivers", s3, addr(priv1.IPv4), false},
	}
	for _, tt := range tests {
		reached := ping(tt.from, tt.to)
		if tt.reach {
			reached = reaches(tt.from, tt.to)
		}
		if reached != tt.reach {
			t.Errorf("%s: ping %s reached=%v, want %v", tt.name, tt.to, reached, tt.reach)
		}
	}
}
