package telemetry

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestInterfacesRealKernel builds links in a fresh namespace, sends traffic
// across a veth pair and compares the collector with iproute2's view.
func TestInterfacesRealKernel(t *testing.T) {
	ns1, ns2 := newNetns(t), newNetns(t)
	// Without IPv6 the links carry only the test's traffic (no router
	// solicitations or MLD reports at random times), so the counters hold
	// still between the collector's read and iproute2's.
	for _, ns := range []string{ns1, ns2} {
		run(t, "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	}
	a, b := randName("nka"), randName("nkb")
	run(t, "ip", "-n", ns1, "link", "add", a, "mtu", "1400", "address", "02:00:00:aa:bb:01", "type", "veth", "peer", "name", b, "netns", ns2)
	run(t, "ip", "-n", ns1, "link", "set", "lo", "up")
	run(t, "ip", "-n", ns1, "addr", "add", "192.0.2.1/24", "dev", a)
	run(t, "ip", "-n", ns2, "addr", "add", "192.0.2.2/24", "dev", b)
	run(t, "ip", "-n", ns1, "link", "set", a, "up")
	run(t, "ip", "-n", ns2, "link", "set", b, "up")
	dummy := randName("nkd")
	run(t, "ip", "-n", ns1, "link", "add", dummy, "type", "veth", "peer", "name", randName("nkp")) // stays down

	c := factories["interfaces"].new(Sources{})
	collect := func(at time.Time) []Interface {
		doc := &Document{}
		var err error
		inNetns(t, ns1, func() { err = c.Collect(context.Background(), at, doc) })
		if err != nil {
			t.Fatal(err)
		}
		return doc.Interfaces
	}
	t0 := time.Now()
	first := collect(t0)
	// Traffic: UDP datagrams from ns1 to ns2 (each also needs ARP once).
	run(t, "ip", "netns", "exec", ns1, "bash", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do echo hello > /dev/udp/192.0.2.2/9 || exit 1; done")
	second := collect(t0.Add(2 * time.Second))

	var ip []struct {
		Ifname  string `json:"ifname"`
		Mtu     int    `json:"mtu"`
		Address string `json:"address"`
		Stats64 struct {
			Rx struct{ Bytes, Packets uint64 } `json:"rx"`
			Tx struct{ Bytes, Packets uint64 } `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal([]byte(run(t, "ip", "-n", ns1, "-s", "-j", "link", "show", a)), &ip); err != nil || len(ip) != 1 {
		t.Fatalf("ip -j: %v %v", err, ip)
	}
	byName := func(l []Interface, n string) *Interface {
		for i := range l {
			if l[i].Name == n {
				return &l[i]
			}
		}
		t.Fatalf("no interface %s in %+v", n, l)
		return nil
	}
	va, d, lo := byName(second, a), byName(second, dummy), byName(second, "lo")
	if va.MTU != 1400 || va.MAC != "02:00:00:aa:bb:01" || va.State != "up" || va.Up != 1 {
		t.Errorf("veth: %+v", *va)
	}
	if d.State != "down" || d.Up != 0 || d.LinkRates == nil || d.TxBps != 0 {
		t.Errorf("dummy: %+v (rates %v)", *d, d.LinkRates)
	}
	if lo.Up != 1 {
		t.Errorf("lo not up: %+v", *lo)
	}
	if va.TxPacketsTotal < 10 || va.TxBytesTotal != ip[0].Stats64.Tx.Bytes || va.TxPacketsTotal != ip[0].Stats64.Tx.Packets ||
		va.RxBytesTotal != ip[0].Stats64.Rx.Bytes {
		t.Errorf("counters %+v, iproute2 says %+v", *va, ip[0].Stats64)
	}
	if byName(first, a).LinkRates != nil {
		t.Error("first sample has rates")
	}
	f := byName(first, a)
	wantBps := float64(va.TxBytesTotal-f.TxBytesTotal) * 8 / 2
	if va.LinkRates == nil || va.TxBps != round3(wantBps) || va.TxPps != round3(float64(va.TxPacketsTotal-f.TxPacketsTotal)/2) {
		t.Errorf("rates %+v, want tx_bps %v", va.LinkRates, wantBps)
	}
	if strings.Contains(va.Name, "/") {
		t.Error("odd name")
	}
}
