package netcfg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// logBuffer collects a Manager's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// openLogged returns a Manager for ns whose debug log goes to the buffer.
func openLogged(t *testing.T, ns string) (*Manager, *logBuffer) {
	t.Helper()
	lb := &logBuffer{}
	m, err := Open(Options{NetNS: ns, StateDir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatalf("Open(%s): %v", ns, err)
	}
	t.Cleanup(func() { m.Close() })
	return m, lb
}

func vethsOnBridge(n int) Config {
	c := Config{Links: []Link{{Name: "nkbr", Kind: Bridge, Addrs: []netip.Prefix{pfx("10.60.0.1/24")}}}}
	for i := 0; i < n; i++ {
		c.Links = append(c.Links, Link{Name: fmt.Sprintf("nkv%d", i), Kind: Veth, Master: "nkbr",
			Peer: &VethPeer{Name: fmt.Sprintf("nkv%dp", i), Addrs: []netip.Prefix{pfx(fmt.Sprintf("10.60.0.%d/24", i+10))}}})
	}
	return c
}

// planVeths plans n veths on a bridge in a fresh namespace, with a Manager
// whose log goes to the returned buffer.
func planVeths(t *testing.T, n int) (string, *Manager, *logBuffer, *Plan) {
	t.Helper()
	ns := newNS(t)
	m, logs := openLogged(t, ns)
	p, err := m.Plan(context.Background(), vethsOnBridge(n))
	if err != nil {
		t.Fatal(err)
	}
	return ns, m, logs, p
}

// TestRefusalMidWave has the kernel refuse a link creation in the middle
// of a wave (another program took the name of a veth's peer after the
// plan was made). The kernel goes on with the creations after it in the
// same wave; those are undone too, the namespace is as before, the other
// program's link untouched, and the error names the step and the kernel's
// answer.
func TestRefusalMidWave(t *testing.T) {
	ctx := context.Background()
	ns, m, logs, p := planVeths(t, 6)
	nsExec(t, ns, "ip", "link", "add", "nkv3p", "type", "bridge")
	before := dump(t, ns)
	failing := -1
	for i, s := range p.Steps {
		if s.Object == "link nkv3" {
			failing = i
		}
	}
	err := m.Apply(ctx, p)
	var ae *ApplyError
	if !errors.As(err, &ae) || ae.Step != failing+1 || len(ae.Undo) != 0 {
		t.Fatalf("Apply = %v, want step %d (create link nkv3) failed with everything undone", err, failing+1)
	}
	if !strings.Contains(err.Error(), "link nkv3") || !strings.Contains(err.Error(), "file exists") {
		t.Errorf("error %q should name the step and the kernel's answer", err)
	}
	// The steps the kernel did after the refused one were undone too.
	undone := undoneSteps(t, logs.String())
	if undone <= failing {
		t.Errorf("%d steps undone, want more than the %d before the failed one (the kernel did the rest of the wave)\n%s", undone, failing, logs)
	}
	if after := dump(t, ns); after != before {
		t.Fatalf("namespace changed:\n%s", lineDiff(before, after))
	}
}

// undoneSteps reads the count of undone steps from the rollback log line.
func undoneSteps(t *testing.T, logs string) int {
	t.Helper()
	_, rest, ok := strings.Cut(logs, "msg=\"rolled back\"")
	if ok {
		_, rest, ok = strings.Cut(rest, "undone=")
	}
	if !ok {
		t.Fatalf("no rollback in the log:\n%s", logs)
	}
	n, err := strconv.Atoi(strings.Fields(rest)[0])
	if err != nil {
		t.Fatalf("rollback log line: %v", err)
	}
	return n
}

// TestIndexTakenMeanwhile has another program create a link with the index
// netcfg picked for its bridge, between the moment netcfg picked it and
// the moment the request goes out: the kernel refuses it, netcfg creates
// the bridge with an index the kernel picks, and goes on with the links on
// it. The other program's link is untouched.
func TestIndexTakenMeanwhile(t *testing.T) {
	ctx := context.Background()
	ns, m, logs, p := planVeths(t, 2)
	highest := 0
	for _, name := range linkNames(t, ns) {
		highest = max(highest, linkIndex(t, ns, name))
	}
	taken := highest + 1 // what netcfg picks for the first link it makes
	m.failStep = func(i int, _ Step) error {
		// Step 0 (the bridge) has its index; it goes out with the
		// wave that step 1 (a veth on the bridge) closes.
		if i == 1 {
			nsExec(t, ns, "ip", "link", "add", "fx", "index", strconv.Itoa(taken), "type", "bridge")
		}
		return nil
	}
	if err := m.Apply(ctx, p); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !strings.Contains(logs.String(), "link index taken") {
		t.Fatalf("the bridge's index was not taken: the test did not test\n%s", logs)
	}
	if got := linkIndex(t, ns, "fx"); got != taken {
		t.Errorf("foreign link fx has index %d, want %d", got, taken)
	}
	fx := nsExec(t, ns, "ip", "-d", "addr", "show", "dev", "fx")
	if !strings.Contains(fx, "group default") || strings.Contains(fx, "inet") || strings.Contains(fx, ",UP") {
		t.Errorf("foreign link fx was changed:\n%s", fx)
	}
	for _, want := range []string{"nkv0: ", "master nkbr", "10.60.0.11/24"} {
		if out := nsExec(t, ns, "ip", "addr", "show"); !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if again, err := m.Plan(ctx, vethsOnBridge(2)); err != nil || !again.Empty() {
		t.Fatalf("plan after apply: %v\n%s", err, again)
	}
}

func linkIndex(t *testing.T, ns, name string) int {
	t.Helper()
	f := strings.SplitN(nsExec(t, ns, "ip", "-o", "link", "show", "dev", name), ":", 2)
	i, err := strconv.Atoi(f[0])
	if err != nil {
		t.Fatalf("index of %s: %v", name, err)
	}
	return i
}

// TestVethQueues: netcfg gives a veth's ends one queue each (the one the
// kernel uses), and a veth it deletes is made again, on undo, with the
// queues it had, also one made with the kernel's default (a queue per CPU,
// one of them used).
func TestVethQueues(t *testing.T) {
	ns := newNS(t)
	m, logs := openLogged(t, ns)
	ctx := context.Background()
	if _, err := m.Sync(ctx, Config{Links: []Link{{Name: "nkq", Kind: Veth, Peer: &VethPeer{Name: "nkqp"}}}}); err != nil {
		t.Fatal(err)
	}
	for _, dev := range []string{"nkq", "nkqp"} {
		if out := nsExec(t, ns, "ip", "-d", "link", "show", "dev", dev); !strings.Contains(out, "numtxqueues 1 numrxqueues 1 ") {
			t.Errorf("%s has other queues than one:\n%s", dev, out)
		}
	}
	// A veth of netcfg's (its group mark on the first end) with the
	// kernel's queues, as netcfg made them before it gave one: deleted,
	// then put back by the rollback.
	nsExec(t, ns, "ip", "link", "add", "nkd", "group", strconv.Itoa(OwnerGroup), "type", "veth", "peer", "name", "nkdp")
	queues := func() string {
		return nsExec(t, ns, "ls", "/sys/class/net/nkd/queues", "/sys/class/net/nkdp/queues")
	}
	beforeQueues, before := queues(), dump(t, ns)
	// The route's gateway is out of reach: the kernel refuses it after
	// nkd is deleted.
	c := Config{Links: []Link{{Name: "nkq", Kind: Veth, Peer: &VethPeer{Name: "nkqp"}}},
		Routes: []Route{{Dst: pfx("10.50.0.0/16"), Via: ip("10.99.0.1")}}}
	p, err := m.Plan(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 2 || p.Steps[0].Object != "link nkd" || p.Steps[0].Op != "delete" {
		t.Fatalf("want the plan to delete nkd, then add a route:\n%s", p)
	}
	if err := m.Apply(ctx, p); err == nil {
		t.Fatal("Apply succeeded despite the unreachable gateway")
	}
	if n := undoneSteps(t, logs.String()); n != 1 {
		t.Fatalf("%d steps undone, want 1 (the deletion)", n)
	}
	if after := dump(t, ns); after != before {
		t.Errorf("namespace changed:\n%s", lineDiff(before, after))
	}
	if q := queues(); q != beforeQueues {
		t.Errorf("queues in use were\n%s\nand are now\n%s", beforeQueues, q)
	}
}

// TestWaveConflicts checks which steps wait for the next wave.
func TestWaveConflicts(t *testing.T) {
	bridge := func(name string) action {
		return action{op: opLinkCreate, link: &Link{Name: name, Kind: Bridge}}
	}
	veth := func(name, master string) action {
		return action{op: opLinkCreate, link: &Link{Name: name, Kind: Veth, Master: master, Peer: &VethPeer{Name: name + "p"}}}
	}
	addr := func(op opcode, link string) action { return action{op: op, name: link, addr: pfx("10.1.0.1/24")} }
	set := func(link, attr, from, to string) action {
		return action{op: opLinkSet, name: link, attr: attr, from: from, to: to}
	}
	del := func(name string) action { return action{op: opLinkDelete, link: &Link{Name: name, Kind: Bridge}} }
	for _, c := range []struct {
		name string
		wave []action
		next action
		want bool
	}{
		{"port of a bridge made in the wave", []action{bridge("nkb")}, veth("nkv", "nkb"), true},
		{"ports of a bridge made before", []action{veth("nkv1", "nkb")}, veth("nkv2", "nkb"), false},
		{"address on a peer made in the wave", []action{veth("nkv", "")}, addr(opAddrAdd, "nkvp"), true},
		{"address on a bridge made before", []action{veth("nkv", "nkb")}, addr(opAddrAdd, "nkb"), false},
		{"two addresses on a link", []action{addr(opAddrAdd, "nkx")}, addr(opAddrAdd, "nkx"), false},
		{"down after an address deletion", []action{addr(opAddrDel, "nkx")}, set("nkx", "up", "true", "false"), true},
		{"up after an address deletion", []action{addr(opAddrDel, "nkx")}, set("nkx", "up", "false", "true"), false},
		{"mtu after an address deletion", []action{addr(opAddrDel, "nkx")}, set("nkx", "mtu", "1500", "1400"), true},
		{"mtu of another link", []action{addr(opAddrDel, "nkx")}, set("nky", "mtu", "1500", "1400"), false},
		{"deletion after an address deletion", []action{addr(opAddrDel, "nkx")}, del("nkx"), true},
		{"bridge deletion after a port leaves it", []action{set("nkx", "master", "nkb", "")}, del("nkb"), true},
		{"deletions of unrelated links", []action{del("nkx")}, del("nky"), false},
		{"creation after deletion of the name", []action{del("nkx")}, bridge("nkx"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := &executor{}
			x.resetWave()
			for _, a := range c.wave {
				made, refs, batch := a.touches()
				if !batch {
					t.Fatalf("%+v cannot go in a wave", a)
				}
				x.add(nil, made, refs)
			}
			made, refs, _ := c.next.touches()
			if got := x.conflicts(c.next, made, refs); got != c.want {
				t.Errorf("conflicts = %v, want %v", got, c.want)
			}
		})
	}
	if _, _, batch := (action{op: opLinkCreate, link: &Link{Name: "nkt", Kind: Tap}}).touches(); batch {
		t.Error("a tap's creation (through /dev/net/tun) went in a wave")
	}
	for _, op := range []opcode{opRouteAdd, opShaping, opFirewall} {
		if _, _, batch := (action{op: op}).touches(); batch {
			t.Errorf("op %d went in a wave", op)
		}
	}
}
