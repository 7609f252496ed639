package netcfg

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The benchmark's task: a bridge with an address and benchVeths veth
// pairs, the host ends its ports, the other ends up with an address each;
// made by netcfg, by a loop of ip commands and by one `ip -batch`, each in
// a fresh namespace.
const benchVeths = 100

func benchAddr(i int) string { return fmt.Sprintf("10.9.%d.%d/16", i/250, i%250+2) }

func benchConfig() Config {
	c := Config{Links: []Link{{Name: "nkbr", Kind: Bridge, Addrs: []netip.Prefix{pfx("10.9.255.1/16")}}}}
	for i := 0; i < benchVeths; i++ {
		c.Links = append(c.Links, Link{Name: fmt.Sprintf("nkva%d", i), Kind: Veth, Master: "nkbr",
			Peer: &VethPeer{Name: fmt.Sprintf("nkvb%d", i), Addrs: []netip.Prefix{pfx(benchAddr(i))}}})
	}
	return c
}

// benchCommands are the ip commands (without "ip") that make the same.
// With oneQueue, the veths get one queue an end as netcfg gives them,
// rather than the kernel's default (a queue per CPU, one of them used).
func benchCommands(oneQueue bool) [][]string {
	cmds := [][]string{
		{"link", "add", "nkbr", "up", "type", "bridge"},
		{"addr", "add", "10.9.255.1/16", "brd", "+", "dev", "nkbr"},
	}
	var q []string
	if oneQueue {
		q = []string{"numtxqueues", "1", "numrxqueues", "1"}
	}
	for i := 0; i < benchVeths; i++ {
		a, b := fmt.Sprintf("nkva%d", i), fmt.Sprintf("nkvb%d", i)
		add := slices.Concat([]string{"link", "add", a}, q, []string{"master", "nkbr", "up", "type", "veth", "peer", "name", b}, q)
		cmds = append(cmds, add,
			[]string{"link", "set", b, "up"},
			[]string{"addr", "add", benchAddr(i), "brd", "+", "dev", b})
	}
	return cmds
}

// ipBatch runs cmds with one `ip -batch` in ns.
func ipBatch(tb testing.TB, ns string, cmds [][]string) {
	var b strings.Builder
	for _, c := range cmds {
		b.WriteString(strings.Join(c, " ") + "\n")
	}
	f := filepath.Join(os.TempDir(), "nkbench-"+randSuffix())
	if err := os.WriteFile(f, []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	defer os.Remove(f)
	if out, err := exec.Command("ip", "-n", ns, "-batch", f).CombinedOutput(); err != nil {
		tb.Fatalf("ip -batch: %v: %s", err, out)
	}
}

var benchMethods = map[string]func(tb testing.TB, ns string){
	"netcfg": func(tb testing.TB, ns string) {
		m, err := Open(Options{NetNS: ns})
		if err != nil {
			tb.Fatal(err)
		}
		defer m.Close()
		if _, err := m.Sync(context.Background(), benchConfig()); err != nil {
			tb.Fatal(err)
		}
	},
	"ip-loop": func(tb testing.TB, ns string) {
		for _, c := range benchCommands(false) {
			if out, err := exec.Command("ip", append([]string{"-n", ns}, c...)...).CombinedOutput(); err != nil {
				tb.Fatalf("ip %v: %v: %s", c, err, out)
			}
		}
	},
	"ip-batch":    func(tb testing.TB, ns string) { ipBatch(tb, ns, benchCommands(false)) },
	"ip-batch-1q": func(tb testing.TB, ns string) { ipBatch(tb, ns, benchCommands(true)) },
}

// benchNS makes a namespace for one run; the caller deletes it, or, should
// the run fail first, the benchmark's cleanup does.
func benchNS(tb testing.TB) (string, func()) {
	name := "nkbench-" + randSuffix()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		needEnv(tb, "needs network namespaces", fmt.Errorf("%v: %s", err, out))
	}
	var once sync.Once
	del := func() {
		once.Do(func() {
			if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
				tb.Errorf("delete namespace %s: %v: %s", name, err, out)
			}
		})
	}
	tb.Cleanup(del)
	return name, del
}

// benchMethodNames are the methods in the order the table lists them.
var benchMethodNames = []string{"netcfg", "ip-loop", "ip-batch", "ip-batch-1q"}

// BenchmarkVeth100 runs the methods in turn in every iteration, starting
// with another one each time (so that a machine busy with other work slows
// them alike), and reports the median time of each, in ms, and the median
// CPU time the kernel spent on netcfg's and on ip -batch's behalf (system
// time: the kernel does a request's work in the sendmsg that carries it),
// the floor under their times. The kernel tears a deleted namespace down
// in the background: each run waits a moment before it starts, out of the
// clock.
func BenchmarkVeth100(b *testing.B) {
	needRoot(b)
	methods := benchMethodNames
	times := map[string][]float64{}
	round := 0
	for b.Loop() {
		round++
		for k := range methods {
			method := methods[(k+round)%len(methods)]
			b.StopTimer()
			time.Sleep(300 * time.Millisecond)
			ns, del := benchNS(b)
			self, children := sysTime(unix.RUSAGE_SELF), sysTime(unix.RUSAGE_CHILDREN)
			start := time.Now()
			b.StartTimer()
			benchMethods[method](b, ns)
			b.StopTimer()
			times[method] = append(times[method], ms(time.Since(start)))
			switch method {
			case "netcfg":
				times["netcfg-sys"] = append(times["netcfg-sys"], ms(sysTime(unix.RUSAGE_SELF)-self))
			case "ip-batch":
				times["ip-batch-sys"] = append(times["ip-batch-sys"], ms(sysTime(unix.RUSAGE_CHILDREN)-children))
			}
			del()
			b.StartTimer()
		}
	}
	for _, name := range append(slices.Clone(methods), "netcfg-sys", "ip-batch-sys") {
		ts := times[name]
		sort.Float64s(ts)
		b.ReportMetric(ts[len(ts)/2], name+"-ms")
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// sysTime is the CPU time the kernel spent for this process (or for its
// waited-for children).
func sysTime(who int) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Stime.Nano())
}

// TestBenchmarkPeersAgree checks that the methods of the benchmark make the
// same links and addresses, so that their times compare.
func TestBenchmarkPeersAgree(t *testing.T) {
	needRoot(t)
	strip := regexp.MustCompile(`link/ether \S+ brd \S+|^\d+: |@if\d+|altname \S+`)
	group := regexp.MustCompile(`group \S+ `)
	var ref, refName string
	for _, method := range benchMethodNames {
		ns := newNS(t)
		nsExec(t, ns, "ip", "link", "set", "lo", "down")
		benchMethods[method](t, ns)
		var lines []string
		for _, l := range strings.Split(nsExec(t, ns, "ip", "-o", "link", "show")+nsExec(t, ns, "ip", "-o", "-4", "addr", "show"), "\n") {
			l = strip.ReplaceAllString(l, "")
			l = group.ReplaceAllString(l, "") // netcfg marks its links
			l = operstate.ReplaceAllString(l, "")
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
		sort.Strings(lines)
		got := strings.Join(lines, "\n")
		if ref == "" {
			ref, refName = got, method
			continue
		}
		if got != ref {
			t.Errorf("%s made something else than %s:\n%s", method, refName, lineDiff(ref, got))
		}
	}
}
