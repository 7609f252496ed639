package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/nodekeeper/nodekeeper/wire"
)

// BenchmarkFleet measures the fleet tool as shipped (bin/nodekeeper-fleet
// as a process of its own, so its CPU and memory are apart from
// mosquitto's and the simulator's) against one mosquitto started here:
// plan and apply to 1,000 simulated nodes (no soak), status at 1,000 and
// 10,000 nodes, and ingestion of 10,000 nodes' telemetry documents and
// states every 10 s. Run by scripts/bench/fleet.sh:
//
//	go test -run '^$' -bench Fleet -benchtime 1x ./fleet/sim/
func BenchmarkFleet(b *testing.B) {
	raiseNoFile(b)
	tmp := b.TempDir()
	bin := filepath.Join(tmp, "nodekeeper-fleet")
	build := exec.Command("go", "build", "-o", bin, "github.com/nodekeeper/nodekeeper/cmd/nodekeeper-fleet")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	br, err := StartBroker(b.TempDir(), "max_inflight_messages 0\n")
	if err != nil {
		b.Fatal(err)
	}
	defer br.Stop()
	key, err := wire.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	keyFile := filepath.Join(tmp, "admin.sec")
	os.WriteFile(keyFile, wire.MarshalSecretKey(key), 0o600)
	fleetDir := filepath.Join(tmp, "fleet")
	os.MkdirAll(filepath.Join(fleetDir, "slices"), 0o755)
	os.WriteFile(filepath.Join(fleetDir, "slices", "exp.yaml"), []byte("template: {url: 'http://repo/x.tar.gz', sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}\nset_state: start\nresources: {memory: 32M}\nplacement: {group: all}\n"), 0o644)
	os.WriteFile(filepath.Join(fleetDir, "settings.yaml"), []byte("all:\n  settings:\n    telemetry.interval: 10\n"), 0o644)

	var rows [][]string
	row := func(cells ...string) { rows = append(rows, cells) }

	// 1,000 simulated nodes, each a connection of its own.
	ctx := context.Background()
	var nodes []*Node
	for i := range 1000 {
		n := New(fmt.Sprintf("sim-%05d", i), Options{Broker: br.URL(), Trusted: []wire.PublicKey{key.Public()}}, NodeOptions{})
		if err := n.Start(ctx); err != nil {
			b.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	defer func() {
		for _, n := range nodes {
			n.Stop()
		}
	}()
	args := []string{"--broker", br.URL(), "--quiet", "300ms"}
	r := runFleet(b, bin, append([]string{"plan", fleetDir}, args...), 2)
	row("plan, 1,000 nodes", r.wall(), r.cpu(), r.rss(), "-")
	r = runFleet(b, bin, append([]string{"apply", fleetDir, "-k", keyFile, "--soak", "0"}, args...), 0)
	if !strings.Contains(r.out, "done: 1000 applied") {
		b.Fatalf("apply:\n%s", r.out)
	}
	row("apply, 1,000 nodes, no soak (10 waves)", r.wall(), r.cpu(), r.rss(), "<= 10 s")
	r = runFleet(b, bin, append([]string{"status", fleetDir, "--json"}, args...), 0)
	row("status with plan, 1,000 nodes", r.wall(), r.cpu(), r.rss(), "-")

	// 10,000 nodes' retained status and state, and their documents every
	// 10 s, published for them over 50 connections (the fleet sees the
	// same topics and messages as from 10,000 connections).
	pubs := startPublishers(b, br.URL(), 50)
	defer pubs.stop()
	ids := make([]string, 10000)
	for i := range ids {
		ids[i] = fmt.Sprintf("ing-%05d", i)
		pubs.publish(i, "nodekeeper/"+ids[i]+"/status", []byte("online"), true)
		pubs.publish(i, "nodekeeper/"+ids[i]+"/state", stateFor(ids[i]), true)
	}
	pubs.flush()
	r = runFleet(b, bin, append([]string{"status", "--json", "--timeout", "10m"}, args...), 0)
	row("status, 11,000 nodes", r.wall(), r.cpu(), r.rss(), "-")

	const listen = 30 * time.Second
	stop := make(chan struct{})
	var sent int
	began := time.Now()
	var publishing time.Duration
	finished := make(chan struct{})
	go func() {
		defer func() { publishing = time.Since(began); close(finished) }()
		// 1,000 documents/s (each node every 10 s) and a state every 10 s.
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		i := 0
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				for range 10 {
					id := ids[i%len(ids)]
					pubs.publish(i, "nodekeeper/"+id+"/document", docFor(id, i), false)
					if i%10 == 0 {
						pubs.publish(i, "nodekeeper/"+id+"/state", stateFor(id), true)
					}
					i++
					sent++
				}
			}
		}
	}()
	r = runFleet(b, bin, append([]string{"status", "--json", "--documents", listen.String()}, args...), 0)
	close(stop)
	<-finished
	var rep struct {
		Slices []struct{ Reporting int }
	}
	json.Unmarshal([]byte(r.out), &rep)
	reporting := 0
	for _, s := range rep.Slices {
		reporting += s.Reporting
	}
	row(fmt.Sprintf("ingest %v: %d documents/s sent, %d nodes reporting", listen, int(float64(sent)/publishing.Seconds()), reporting),
		r.wall(), fmt.Sprintf("%s (%.0f%% of a core)", r.cpu(), 100*r.cpuSecs/r.wallSecs), r.rss(), "<= 50% of a core, RSS <= 150 MB")

	fmt.Printf("\n%-62s %10s %22s %10s  %s\n", "fleet (bin/nodekeeper-fleet as its own process)", "wall", "cpu", "max RSS", "target")
	for _, c := range rows {
		fmt.Printf("%-62s %10s %22s %10s  %s\n", c[0], c[1], c[2], c[3], c[4])
	}
}

// result is one fleet command's run.
type result struct {
	out               string
	wallSecs, cpuSecs float64
	maxRSS            int64
}

func (r result) wall() string { return fmt.Sprintf("%.2f s", r.wallSecs) }
func (r result) cpu() string  { return fmt.Sprintf("%.2f s", r.cpuSecs) }
func (r result) rss() string  { return fmt.Sprintf("%.0f MB", float64(r.maxRSS)/1e6) }

func runFleet(b *testing.B, bin string, args []string, want int) result {
	b.Helper()
	cmd := exec.Command(bin, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := result{out: out.String(), wallSecs: time.Since(start).Seconds()}
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != want {
		b.Fatalf("%s: %v (want exit %d)\n%s", strings.Join(args[:2], " "), err, want, r.out)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.cpuSecs = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		r.maxRSS = ru.Maxrss * 1024
	}
	return r
}

// raiseNoFile raises the open-file limit (inherited by mosquitto).
func raiseNoFile(b *testing.B) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		b.Fatal(err)
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		b.Fatal(err)
	}
	if l.Cur < 4096 {
		b.Fatalf("open-file limit %d: the benchmark needs more than 2,000", l.Cur)
	}
}

// publishers publish for many node ids over a few connections.
type publishers struct {
	cs []mqtt.Client
	mu sync.Mutex
	ts []mqtt.Token
}

func startPublishers(b *testing.B, url string, n int) *publishers {
	p := &publishers{}
	for i := range n {
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("bench-pub-%d", i)).SetOrderMatters(false))
		if t := c.Connect(); !t.WaitTimeout(30*time.Second) || t.Error() != nil {
			b.Fatalf("publisher: %v", t.Error())
		}
		p.cs = append(p.cs, c)
	}
	return p
}

func (p *publishers) publish(i int, topic string, payload []byte, retained bool) {
	qos := byte(0)
	if retained {
		qos = 1
	}
	t := p.cs[i%len(p.cs)].Publish(topic, qos, retained, payload)
	if retained {
		p.mu.Lock()
		p.ts = append(p.ts, t)
		p.mu.Unlock()
	}
}

func (p *publishers) flush() {
	p.mu.Lock()
	ts := p.ts
	p.ts = nil
	p.mu.Unlock()
	for _, t := range ts {
		t.WaitTimeout(30 * time.Second)
	}
}

func (p *publishers) stop() {
	for _, c := range p.cs {
		c.Disconnect(100)
	}
}

var (
	statesMu sync.Mutex
	states   = map[string][]byte{}
)

// stateFor is the node's signed state report (made once per node, with a
// key of its own, as agents sign theirs).
func stateFor(id string) []byte {
	statesMu.Lock()
	defer statesMu.Unlock()
	if b, ok := states[id]; ok {
		return b
	}
	k, _ := wire.GenerateKey()
	b, _ := json.Marshal(wire.StateReport{Node: id, NodeKey: k.Public().String(), TS: float64(time.Now().Unix()), NodeState: "production", AppliedSeq: 3, SeenSeq: 3,
		Slivers: []wire.SliverReport{{Name: "exp", Slice: "exp", ID: 1, State: "started", SetState: "start", Remote: true}}, Errors: []wire.ErrorEntry{}})
	signed, _ := wire.SignState(k, b)
	states[id] = signed
	return signed
}

// docFor is a telemetry document of a typical size (about 1.5 KB: the
// system group, three interfaces, one sliver).
func docFor(id string, seq int) []byte {
	return fmt.Appendf(nil, `{"node":%q,"ts":%d,"seq":%d,"system":{"uptime_seconds":86400,"load":[0.31,0.25,0.2],"cpu":{"count":2,"user_seconds_total":1234.5,"nice_seconds_total":0,"system_seconds_total":321.2,"idle_seconds_total":99999.1,"iowait_seconds_total":12.1,"irq_seconds_total":0,"softirq_seconds_total":4.4,"steal_seconds_total":0,"user_percent":3.1,"system_percent":1.2,"idle_percent":95.5,"iowait_percent":0.1,"steal_percent":0,"busy_percent":4.4},"memory":{"total_bytes":134217728,"available_bytes":67108864,"free_bytes":33554432,"cached_bytes":16777216,"buffers_bytes":4194304,"used_percent":50},"processes":{"running":1,"total":80},"entropy_bits":256},"interfaces":[{"name":"eth0","state":"up","up":1,"mtu":1500,"rx_bytes_total":123456789,"tx_bytes_total":98765432,"rx_packets_total":123456,"tx_packets_total":98765,"rx_errors_total":0,"tx_errors_total":0,"rx_dropped_total":0,"tx_dropped_total":0,"rx_bps":12345,"tx_bps":5432,"rx_pps":12,"tx_pps":9},{"name":"wlan0","state":"up","up":1,"mtu":1500,"rx_bytes_total":23456789,"tx_bytes_total":8765432,"rx_packets_total":23456,"tx_packets_total":8765,"rx_errors_total":0,"tx_errors_total":0,"rx_dropped_total":0,"tx_dropped_total":0,"rx_bps":2345,"tx_bps":432,"rx_pps":2,"tx_pps":1},{"name":"br-lan","state":"up","up":1,"mtu":1500,"rx_bytes_total":3456789,"tx_bytes_total":765432,"rx_packets_total":3456,"tx_packets_total":765,"rx_errors_total":0,"tx_errors_total":0,"rx_dropped_total":0,"tx_dropped_total":0}],"slivers":[{"name":"exp","slice":"exp","id":1,"state":"started","cpu_seconds_total":12.5,"memory_bytes":8388608,"pids":3,"rx_bytes_total":1234,"tx_bytes_total":567,"cpu_percent":1.5,"rx_bps":100,"tx_bps":50}],"collectors":{"system":{"duration_seconds":0.001}}}`,
		id, time.Now().Unix(), seq)
}
