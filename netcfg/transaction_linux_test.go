package netcfg

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// faultStart and faultGoal make a plan of exactly 20 steps that creates,
// changes and deletes links of several kinds, addresses, routes, shaping
// and the firewall.
func faultStart() Config {
	return Config{
		Links: []Link{
			{Name: "nkbrA", Kind: Bridge, Addrs: []netip.Prefix{pfx("10.20.0.1/24")}},
			{Name: "nkvA", Kind: Veth, Master: "nkbrA", Peer: &VethPeer{Name: "nkvAp"}, Shaping: &Shaping{Qdisc: "tbf", Rate: 8e6}},
			{Name: "nkold", Kind: Bridge, Addrs: []netip.Prefix{pfx("10.21.0.1/24"), pfx("10.21.0.7/24")}},
			{Name: "nkvB", Kind: Veth, Master: "nkold", Peer: &VethPeer{Name: "nkvBp", Addrs: []netip.Prefix{pfx("10.21.0.2/24")}}},
		},
		Routes: []Route{
			{Dst: pfx("10.30.0.0/16"), Via: ip("10.20.0.2")},
			{Dst: pfx("10.31.0.0/16"), Via: ip("10.21.0.9"), Dev: "nkold"},
		},
		Firewall: Firewall{NAT: []NAT{{Source: pfx("10.20.0.0/24")}}},
	}
}

func faultGoal() Config {
	return Config{
		Links: []Link{
			{Name: "nkbrA", Kind: Bridge, MTU: 1400, Addrs: []netip.Prefix{pfx("10.20.0.1/24"), pfx("10.20.1.1/24")}},
			{Name: "nkbrN", Kind: Bridge, Addrs: []netip.Prefix{pfx("10.22.0.1/24")}},
			{Name: "nkvA", Kind: Veth, Master: "nkbrN", Peer: &VethPeer{Name: "nkvAp", MTU: 1400, Addrs: []netip.Prefix{pfx("10.22.0.2/24")}},
				Shaping: &Shaping{Qdisc: "htb", Rate: 4e6}},
			{Name: "nkvx", Kind: VXLAN, Master: "nkbrA", VXLAN: &VXLANOpts{VNI: 42, Remote: ip("10.22.0.9"), Dev: "nkbrN"}},
			{Name: "nkmv", Kind: Macvlan, Macvlan: &MacvlanOpts{Parent: "nkbrN"}},
			{Name: "nktap", Kind: Tap, Master: "nkbrN"},
		},
		Routes: []Route{
			{Dst: pfx("10.30.0.0/16"), Via: ip("10.20.0.3")},
			{Dst: pfx("10.32.0.0/16"), Dev: "nkbrN"},
		},
		Firewall: Firewall{
			NAT:     []NAT{{Source: pfx("10.22.0.0/24"), Bridge: "nkbrN"}},
			Isolate: []Isolation{{Link: "nkbrN", Mode: IsolatePrivate}, {Link: "nkvx", Mode: IsolatePort}},
		},
	}
}

// TestFaultInjection fails each step k of a 20-step plan in turn and shows
// that the namespace is exactly as before, then applies the plan whole.
func TestFaultInjection(t *testing.T) {
	ns := newNS(t)
	m := open(t, ns)
	ctx := context.Background()
	if _, err := m.Sync(ctx, faultStart()); err != nil {
		t.Fatalf("set up the start state: %v", err)
	}
	before := dump(t, ns)
	p, err := m.Plan(ctx, faultGoal())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 20 {
		t.Fatalf("plan has %d steps, the test wants 20:\n%s", len(p.Steps), p)
	}
	t.Logf("plan:\n%s", p)
	injected := errors.New("injected failure")
	for k := range p.Steps {
		t.Run(fmt.Sprintf("fail step %d", k+1), func(t *testing.T) {
			m.failStep = func(i int, _ Step) error {
				if i == k {
					return injected
				}
				return nil
			}
			defer func() { m.failStep = nil }()
			err := m.Apply(ctx, p)
			var ae *ApplyError
			if !errors.As(err, &ae) || !errors.Is(err, injected) || ae.Step != k+1 || len(ae.Undo) != 0 {
				t.Fatalf("Apply = %v, want step %d failed with everything undone", err, k+1)
			}
			if !strings.Contains(err.Error(), p.Steps[k].Object) {
				t.Errorf("error %q does not name step %q", err, p.Steps[k].Object)
			}
			if after := dump(t, ns); after != before {
				t.Fatalf("namespace changed after failing step %d (%s):\n%s", k+1, p.Steps[k], lineDiff(before, after))
			}
		})
	}
	if err := m.Apply(ctx, p); err != nil {
		t.Fatalf("whole plan: %v", err)
	}
	again, err := m.Plan(ctx, faultGoal())
	if err != nil || !again.Empty() {
		t.Fatalf("plan after apply: %v\n%s", err, again)
	}
}

// TestKernelRefusalRollsBack has the kernel itself refuse a late step.
func TestKernelRefusalRollsBack(t *testing.T) {
	ns := newNS(t)
	m := open(t, ns)
	ctx := context.Background()
	before := dump(t, ns)
	c := Config{
		Links: []Link{
			{Name: "nkbr0", Kind: Bridge, Addrs: []netip.Prefix{pfx("10.40.0.1/24")}},
			{Name: "nkv0", Kind: Veth, Master: "nkbr0", Peer: &VethPeer{Name: "nkv0p"}},
		},
		// No link has an address in 10.99.0.0/16: the gateway is unreachable.
		Routes: []Route{{Dst: pfx("10.50.0.0/16"), Via: ip("10.99.0.1")}},
	}
	p, err := m.Plan(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Apply(ctx, p)
	var ae *ApplyError
	if !errors.As(err, &ae) || ae.Step != len(p.Steps) || len(ae.Undo) != 0 {
		t.Fatalf("Apply = %v, want the last step (the route) to fail and the rest undone", err)
	}
	if !strings.Contains(err.Error(), "route 10.50.0.0/16") || !strings.Contains(err.Error(), "network is unreachable") {
		t.Errorf("error %q should name the route and the kernel's answer", err)
	}
	if after := dump(t, ns); after != before {
		t.Fatalf("namespace changed:\n%s", lineDiff(before, after))
	}
}

// TestIdempotent applies each desired state twice: the second plan is empty,
// and Observe gives back a Config whose plan is empty too.
func TestIdempotent(t *testing.T) {
	ns := newNS(t)
	m := open(t, ns)
	ctx := context.Background()
	for i, c := range []Config{faultStart(), faultGoal(), {}} {
		if _, err := m.Sync(ctx, c); err != nil {
			t.Fatalf("config %d: %v", i, err)
		}
		d := dump(t, ns)
		p, err := m.Sync(ctx, c)
		if err != nil || !p.Empty() {
			t.Fatalf("config %d applied twice: %v\n%s", i, err, p)
		}
		if after := dump(t, ns); after != d {
			t.Fatalf("config %d: second apply changed the namespace:\n%s", i, lineDiff(d, after))
		}
		obs, err := m.Observe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := m.Plan(ctx, obs); err != nil || !p.Empty() {
			t.Fatalf("config %d: plan of the observed state: %v\n%s", i, err, p)
		}
	}
}

func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	in := func(s string, l []string) bool {
		for _, x := range l {
			if x == s {
				return true
			}
		}
		return false
	}
	var out strings.Builder
	for _, l := range al {
		if !in(l, bl) {
			out.WriteString("- " + l + "\n")
		}
	}
	for _, l := range bl {
		if !in(l, al) {
			out.WriteString("+ " + l + "\n")
		}
	}
	if out.Len() == 0 {
		for i := range al {
			if i >= len(bl) || al[i] != bl[i] {
				lo, hi := max(0, i-3), min(len(al), i+4)
				return fmt.Sprintf("same lines, different order; from line %d before:\n%s\nafter:\n%s",
					i, strings.Join(al[lo:hi], "\n"), strings.Join(bl[lo:min(len(bl), hi)], "\n"))
			}
		}
	}
	return out.String()
}
