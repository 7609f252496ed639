package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/nodekeeper/nodekeeper/fleet/sim"
	"github.com/nodekeeper/nodekeeper/wire"
)

// BenchmarkWeb measures the web view as shipped (bin/nodekeeper-fleet
// serve, a process of its own) at 1,000 and 10,000 simulated nodes
// against one mosquitto started here: the nodes page's load time in
// headless Chromium while telemetry documents stream (each node every
// 10 s), and the server's CPU and RSS meanwhile. Run by
// scripts/bench/web.sh:
//
//	go test -run '^$' -bench Web -benchtime 1x ./fleet/web/
func BenchmarkWeb(b *testing.B) {
	var l syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
	l.Cur = l.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	tmp := b.TempDir()
	bin := filepath.Join(tmp, "nodekeeper-fleet")
	build := exec.Command("go", "build", "-o", bin, "github.com/nodekeeper/nodekeeper/cmd/nodekeeper-fleet")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	br, err := sim.StartBroker(b.TempDir(), "max_inflight_messages 0\n")
	if err != nil {
		b.Fatal(err)
	}
	defer br.Stop()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath("/usr/bin/chromium"), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900), chromedp.Flag("disable-gpu", true), chromedp.UserDataDir(b.TempDir()),
		// Chromium keeps its singleton socket in TMPDIR: in the benchmark's own.
		chromedp.Env("TMPDIR="+b.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancel2 := chromedp.NewContext(actx)
	defer cancel2()
	if err := chromedp.Do(bctx); err != nil {
		b.Fatalf("chromium: %v", err)
	}
	var rows [][]string
	for _, n := range []int{1000, 10000} {
		rows = append(rows, benchWeb(b, bctx, bin, br.URL(), n)...)
	}
	la, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("\nmachine load average at the end: %s", la)
	fmt.Printf("%-64s %12s %22s %18s  %s\n", "web view (bin/nodekeeper-fleet serve as its own process)", "value", "server cpu", "RSS", "target")
	for _, r := range rows {
		fmt.Printf("%-64s %12s %22s %18s  %s\n", r[0], r[1], r[2], r[3], r[4])
	}
}

func benchWeb(b *testing.B, bctx context.Context, bin, brokerURL string, n int) [][]string {
	prefix := fmt.Sprintf("web%d", n)
	pubs := make([]mqtt.Client, 20)
	for i := range pubs {
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(brokerURL).SetClientID(fmt.Sprintf("bench-web-%d-%d", n, i)).SetOrderMatters(false))
		if t := c.Connect(); !t.WaitTimeout(30*time.Second) || t.Error() != nil {
			b.Fatalf("publisher: %v", t.Error())
		}
		defer c.Disconnect(100)
		pubs[i] = c
	}
	ids := make([]string, n)
	var toks []mqtt.Token
	for i := range ids {
		ids[i] = fmt.Sprintf("node-%05d", i)
		c := pubs[i%len(pubs)]
		toks = append(toks, c.Publish(prefix+"/"+ids[i]+"/status", 1, true, "online"), c.Publish(prefix+"/"+ids[i]+"/state", 1, true, benchState(ids[i])))
	}
	for _, t := range toks {
		t.WaitTimeout(time.Minute)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve", "--listen", addr, "--broker", brokerURL, "--prefix", prefix)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	url := "http://" + addr
	deadline := time.Now().Add(3 * time.Minute)
	for {
		resp, err := http.Get(url + "/api/nodes?status=online")
		if err == nil {
			var got []json.RawMessage
			json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			if len(got) == n {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("serve never saw %d nodes\n%s", n, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Documents: each node every 10 s.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		per := max(1, n/1000) // n/10 a second, in 100 ticks
		i := 0
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				for range per {
					id := ids[i%n]
					pubs[i%len(pubs)].Publish(prefix+"/"+id+"/document", 0, false, benchDoc(id, i))
					i++
				}
			}
		}
	}()
	defer func() { close(stop); <-done }()
	time.Sleep(12 * time.Second) // every node has sent a document
	// The nodes page's load time, the median and the best of nine (the
	// machine is shared: the best is what the page costs, the median what
	// it costs beside everything else): the default page, and 1,000 rows
	// on one.
	var rows [][]string
	for _, path := range []string{"/", "/?per=1000"} {
		var loads []float64
		for range 9 {
			if err := chromedp.Do(bctx, chromedp.Navigate(url+path)); err != nil {
				b.Fatal(err)
			}
			ms, err := chromedp.Run(bctx, chromedp.Evaluate[float64](`(function(){ var e = performance.getEntriesByType('navigation')[0]; return e.loadEventEnd - e.startTime; })()`))
			if err != nil {
				b.Fatal(err)
			}
			loads = append(loads, ms)
		}
		sort.Float64s(loads)
		rowsShown, _ := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('#nodes tbody tr').length`))
		target := "-"
		if n == 1000 && path == "/" {
			target = "<= 1 s"
		}
		rows = append(rows, []string{fmt.Sprintf("nodes page %s, %d nodes (%d rows), median/best of 9", path, n, rowsShown), fmt.Sprintf("%.0f/%.0f ms", loads[4], loads[0]), "-", "-", target})
	}
	// The server while documents stream and the page takes live updates.
	const listen = 30 * time.Second
	cpu0 := procCPU(cmd.Process.Pid)
	time.Sleep(listen)
	cpu := procCPU(cmd.Process.Pid) - cpu0
	rss, hwm := procMem(cmd.Process.Pid)
	target := "-"
	if n == 10000 {
		target = "RSS <= 150 MB"
	}
	return append(rows, []string{fmt.Sprintf("serving %d nodes, %d documents/s, one live page, %v", n, n/10, listen), "-",
		fmt.Sprintf("%.2f s (%.0f%% of a core)", cpu, 100*cpu/listen.Seconds()), fmt.Sprintf("%.0f MB (peak %.0f)", float64(rss)/1e6, float64(hwm)/1e6), target})
}

// procCPU returns a process's user and system CPU seconds.
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

// procMem returns a process's resident and peak resident bytes.
func procMem(pid int) (rss, hwm int64) {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = kb * 1024
		case "VmHWM":
			hwm = kb * 1024
		}
	}
	return rss, hwm
}

func benchState(id string) []byte {
	k, _ := wire.GenerateKey()
	b, _ := json.Marshal(wire.StateReport{Node: id, NodeKey: k.Public().String(), TS: float64(time.Now().Unix()), NodeState: "production", AppliedSeq: 3, SeenSeq: 3,
		Slivers: []wire.SliverReport{{Name: "exp", Slice: "exp", ID: 1, State: "started", SetState: "start", Remote: true}}, Errors: []wire.ErrorEntry{}})
	signed, _ := wire.SignState(k, b)
	return signed
}

// benchDoc is a telemetry document of a typical size (the system group,
// three interfaces, one sliver), as fleet/sim's benchmark sends.
func benchDoc(id string, seq int) []byte {
	return fmt.Appendf(nil, `{"node":%q,"ts":%d,"seq":%d,"system":{"uptime_seconds":86400,"load":[%.2f,0.25,0.2],"cpu":{"count":2,"busy_percent":%.1f},"memory":{"total_bytes":134217728,"available_bytes":67108864,"used_percent":50},"filesystems":[{"mount":"/overlay","used_percent":31}]},"interfaces":[{"name":"eth0","state":"up","mac":"02:00:00:00:00:01","rx_bps":%d,"tx_bps":5432},{"name":"wlan0","state":"up","rx_bps":2345,"tx_bps":432},{"name":"br-lan","state":"up","rx_bps":0,"tx_bps":0}],"slivers":[{"name":"exp","slice":"exp","id":1,"state":"started","memory_bytes":8388608,"cpu_percent":1.5,"rx_bps":100,"tx_bps":50}]}`,
		id, time.Now().Unix(), seq, float64(seq%7)/3, float64(seq%50), 10000+seq%5000)
}
