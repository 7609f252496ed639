package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// TestMain lets the test binary act as a standalone publisher process (for
// the kill -9 test).
func TestMain(m *testing.M) {
	if b := os.Getenv("NK_TELEMETRY_CHILD_BROKER"); b != "" {
		c := testConfig(b, os.Getenv("NK_TELEMETRY_CHILD_NODE"))
		p, err := NewPublisher(c)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		p.Run(context.Background()) // runs until killed
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testConfig publishes the system group every 200 ms, at once, with fast
// reconnection.
func testConfig(brokerURL, node string) Config {
	c := DefaultConfig()
	c.Broker = brokerURL
	c.NodeID = node
	c.Interval = 200 * time.Millisecond
	c.StartDelay = -1
	c.Collectors = map[string]bool{"system": true, "interfaces": false, "wifi": false, "slivers": false, "agent": false}
	c.Sources = Sources{Filesystems: []string{}}
	c.KeepAlive = 5 * time.Second
	c.ReconnectMax = 500 * time.Millisecond
	c.AckTimeout = 10 * time.Second
	c.DrainRate = 50
	c.Logger = slog.New(slog.DiscardHandler)
	return c
}

// logBuffer collects a publisher's logs and prints them if the test fails.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// startPublisher runs a publisher until the test ends.
func startPublisher(t *testing.T, c Config) *Publisher {
	t.Helper()
	logs := &logBuffer{}
	c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := NewPublisher(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			logs.mu.Lock()
			t.Logf("publisher log:\n%s", logs.b.String())
			logs.mu.Unlock()
		}
	})
	return p
}

// seqsOf returns the seq of each JSON message.
func seqsOf(t *testing.T, msgs []mqtt.Message) []uint64 {
	t.Helper()
	out := make([]uint64, 0, len(msgs))
	for _, m := range msgs {
		var v struct {
			Seq uint64  `json:"seq"`
			TS  float64 `json:"ts"`
		}
		if err := json.Unmarshal(m.Payload(), &v); err != nil {
			t.Fatalf("%s: %v: %q", m.Topic(), err, m.Payload())
		}
		out = append(out, v.Seq)
	}
	return out
}

// checkExactlyOnceInOrder checks that seqs run from 1 without gap or
// repeat.
func checkExactlyOnceInOrder(t *testing.T, seqs []uint64) {
	t.Helper()
	for i, s := range seqs {
		if s != uint64(i+1) {
			lo, hi := max(i-3, 0), min(i+4, len(seqs))
			t.Fatalf("message %d has seq %d, want %d (around it: %v; %d messages)", i, s, i+1, seqs[lo:hi], len(seqs))
		}
	}
}

func TestLastWillAfterKill(t *testing.T) {
	b := startBroker(t, "")
	node := randName("n")
	status := "nodekeeper/" + node + "/status"
	sub := subscribe(t, b.url(), "", "nodekeeper/"+node+"/#")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "NK_TELEMETRY_CHILD_BROKER="+b.url(), "NK_TELEMETRY_CHILD_NODE="+node)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	payloads := func() []string {
		var out []string
		for _, m := range sub.on(status) {
			out = append(out, string(m.Payload()))
		}
		return out
	}
	waitFor(t, 30*time.Second, "online status", func() bool { return slicesContain(payloads(), "online") })
	waitFor(t, 30*time.Second, "a telemetry sample", func() bool { return len(sub.on("nodekeeper/"+node+"/telemetry/system")) > 0 })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	waitFor(t, 30*time.Second, "offline status (last will)", func() bool {
		p := payloads()
		return len(p) > 0 && p[len(p)-1] == "offline"
	})
	// The will is retained: a newcomer sees offline.
	late := subscribe(t, b.url(), "", status)
	waitFor(t, 30*time.Second, "retained offline for a new subscriber", func() bool {
		m := late.on(status)
		return len(m) > 0 && string(m[0].Payload()) == "offline" && m[0].Retained()
	})
	if t.Failed() {
		t.Log(stderr.String())
	}
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestOutageThroughProxy cuts the publisher's link for 20 s; a subscriber
// on the broker must see every seq exactly once and in order, the ones
// sampled during the outage with their original timestamps.
func TestOutageThroughProxy(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "")
	px := startProxy(t, fmt.Sprintf("127.0.0.1:%d", b.port))
	node := randName("n")
	topic := "nodekeeper/" + node + "/telemetry/system"
	sub := subscribe(t, b.url(), "", topic)
	p := startPublisher(t, testConfig(px.url(), node))
	waitFor(t, 60*time.Second, "five samples", func() bool { return len(sub.on(topic)) >= 5 })
	n := len(sub.on(topic))
	waitFor(t, 30*time.Second, "the next sample", func() bool { return len(sub.on(topic)) > n })
	// Cut between two publishes: a PUBLISH that reached the broker whose
	// PUBACK is dropped would be sent again, a duplicate QoS 1 allows.
	time.Sleep(50 * time.Millisecond)
	px.cut()
	cutAt := time.Now()
	waitFor(t, 30*time.Second, "the publisher to see the cut", func() bool { return !p.Connected() })
	time.Sleep(20*time.Second - time.Since(cutAt))
	restoredAt := float64(time.Now().UnixMilli()) / 1000
	seqAtRestore := p.Latest().Seq
	before := len(sub.on(topic))
	px.restore()
	waitFor(t, 2*time.Minute, "the backlog to drain", func() bool {
		s := sub.on(topic)
		return len(s) > 0 && seqsOf(t, s[len(s)-1:])[0] >= seqAtRestore+5
	})
	msgs := sub.on(topic)
	seqs := seqsOf(t, msgs)
	checkExactlyOnceInOrder(t, seqs)
	if seqAtRestore < uint64(before)+50 {
		t.Errorf("only %d samples taken during a 20 s outage at 200 ms", seqAtRestore-uint64(before))
	}
	// Samples from the outage keep the time they were taken.
	var ts []float64
	for _, m := range msgs {
		var v struct{ TS float64 }
		json.Unmarshal(m.Payload(), &v)
		ts = append(ts, v.TS)
	}
	for i := 1; i < len(ts); i++ {
		if ts[i] <= ts[i-1] {
			t.Fatalf("timestamps not increasing at %d: %v then %v", i, ts[i-1], ts[i])
		}
	}
	if ts[seqAtRestore-1] > restoredAt {
		t.Errorf("sample %d taken during the outage carries ts %v, after the restore at %v", seqAtRestore, ts[seqAtRestore-1], restoredAt)
	}
	if _, _, dropped := p.spool.depth(); dropped != 0 {
		t.Errorf("%d messages dropped", dropped)
	}
}

// TestBrokerRestartWithPersistence restarts mosquitto (persistent) mid-
// stream; the subscriber, with a persistent session, sees every seq once.
func TestBrokerRestartWithPersistence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := startBroker(t, "persistence true\npersistence_location "+dir+"/\nautosave_interval 1\n")
	node := randName("n")
	topic := "nodekeeper/" + node + "/telemetry/system"
	sub := subscribe(t, b.url(), randName("persub"), topic)
	p := startPublisher(t, testConfig(b.url(), node))
	waitFor(t, 60*time.Second, "five samples", func() bool { return len(sub.on(topic)) >= 5 })
	n := len(sub.on(topic))
	waitFor(t, 30*time.Second, "the next sample", func() bool { return len(sub.on(topic)) > n })
	time.Sleep(50 * time.Millisecond)
	b.stop()
	if !fileExists(dir + "/mosquitto.db") {
		t.Fatalf("mosquitto saved no persistence file: %s", b.logText())
	}
	waitFor(t, 30*time.Second, "the publisher to see the broker go", func() bool { return !p.Connected() })
	time.Sleep(3 * time.Second)
	b.start()
	seqAtRestart := p.Latest().Seq
	waitFor(t, 2*time.Minute, "the backlog to drain", func() bool {
		s := sub.on(topic)
		return len(s) > 0 && seqsOf(t, s[len(s)-1:])[0] >= seqAtRestart+5
	})
	// The broker may resend to the subscriber a message whose PUBACK it had
	// not recorded when it stopped (flagged DUP): that is the subscriber's
	// leg, not the publisher's, so such redeliveries are set aside. A
	// duplicate the publisher sent would carry no DUP flag.
	var fromPublisher []mqtt.Message
	seen := map[string]bool{}
	for _, m := range sub.on(topic) {
		if m.Duplicate() && seen[string(m.Payload())] {
			t.Logf("broker redelivered to the subscriber: %s", m.Payload())
			continue
		}
		seen[string(m.Payload())] = true
		fromPublisher = append(fromPublisher, m)
	}
	checkExactlyOnceInOrder(t, seqsOf(t, fromPublisher))
}

func TestPrometheusListener(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "")
	c := testConfig(b.url(), randName("n"))
	c.Collectors = nil // every default collector
	c.PrometheusListen = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startPublisher(t, c)
	waitFor(t, 30*time.Second, "a sample", func() bool { return p.Latest() != nil })
	var text string
	waitFor(t, 30*time.Second, "the metrics endpoint", func() bool {
		resp, err := http.Get("http://" + c.PrometheusListen + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		text = string(body)
		return resp.StatusCode == 200 && strings.Contains(resp.Header.Get("Content-Type"), "version=0.0.4")
	})
	checkExposition(t, text)
	for _, want := range []string{"\nnode_load1 ", `node_network_receive_bytes_total{device="lo"} `, "\nnode_memory_MemAvailable_bytes ", `node_scrape_collector_success{collector="wifi"} 1`} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Off by default: the default config has no listener.
	if DefaultConfig().PrometheusListen != "" {
		t.Error("the Prometheus listener is on by default")
	}
}

func TestSeqAcrossRestart(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "")
	node := randName("n")
	topic := "nodekeeper/" + node + "/telemetry/system"
	sub := subscribe(t, b.url(), "", topic)
	c := testConfig(b.url(), node)
	c.SeqPath = t.TempDir() + "/seq"
	for round := 1; round <= 2; round++ {
		p, err := NewPublisher(c)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- p.Run(ctx) }()
		waitFor(t, 30*time.Second, "three more samples", func() bool { return len(sub.on(topic)) >= 3*round })
		cancel()
		<-done
	}
	// Samples spooled but not sent at the first stop are lost with the RAM
	// spool; what arrived must still be strictly increasing and the second
	// run must continue where the first stopped.
	seqs := seqsOf(t, sub.on(topic))
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("seq went from %d to %d across a restart: %v", seqs[i-1], seqs[i], seqs)
		}
	}
	if seqs[len(seqs)-1] > uint64(len(seqs))+3 {
		t.Errorf("a clean restart skipped numbers: %v", seqs)
	}
}

func TestEventsInfluxAndHomeAssistant(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "")
	node := randName("n") + ".lan" // a hostname-like id: the discovery topic maps it
	sub := subscribe(t, b.url(), "", "#")
	c := testConfig(b.url(), node)
	c.Collectors["agent"] = true
	c.HADiscovery = true
	c.Interval = time.Second
	p := startPublisher(t, c)
	if err := p.PublishEvent(Event{Kind: "policy_action", Source: "limit-sliver", Severity: "warning", Message: "capped s3", Fields: map[string]any{"sliver": "s3"}}); err != nil {
		t.Fatal(err)
	}
	events := "nodekeeper/" + node + "/events"
	waitFor(t, 30*time.Second, "the event", func() bool { return len(sub.on(events)) == 1 })
	var ev map[string]any
	json.Unmarshal(sub.on(events)[0].Payload(), &ev)
	if ev["node"] != node || ev["kind"] != "policy_action" || ev["source"] != "limit-sliver" || ev["fields"].(map[string]any)["sliver"] != "s3" {
		t.Errorf("event %v", ev)
	}
	cfgTopic := "homeassistant/sensor/" + haNodeID(node) + "/load1/config"
	waitFor(t, 30*time.Second, "discovery", func() bool { return len(sub.on(cfgTopic)) == 1 })
	var ha map[string]any
	json.Unmarshal(sub.on(cfgTopic)[0].Payload(), &ha)
	if ha["state_topic"] != "nodekeeper/"+node+"/telemetry/system" || ha["availability_topic"] != "nodekeeper/"+node+"/status" || ha["value_template"] != "{{ value_json.load1 }}" {
		t.Errorf("discovery config %v", ha)
	}
	// Home Assistant restarting asks for the configs again.
	sub.c.Publish("homeassistant/status", 1, false, "online").WaitTimeout(5 * time.Second)
	waitFor(t, 30*time.Second, "discovery re-sent", func() bool { return len(sub.on(cfgTopic)) == 2 })

	if _, err := NewPublisher(func() Config { c := c; c.Format = FormatInflux; return c }()); err == nil {
		t.Error("influx format with Home Assistant discovery accepted")
	}
	ci := testConfig(b.url(), randName("n"))
	ci.Format = FormatInflux
	startPublisher(t, ci)
	itopic := "nodekeeper/" + ci.NodeID + "/telemetry/system"
	waitFor(t, 30*time.Second, "an influx sample", func() bool { return len(sub.on(itopic)) > 0 })
	if line := string(sub.on(itopic)[0].Payload()); !influxLine.MatchString(strings.TrimSpace(line)) || !strings.HasPrefix(line, "system,node="+ci.NodeID+" seq=") {
		t.Errorf("influx payload %q", line)
	}
}

// TestPrometheusListenerTaken: with ListenRetry set (the agent's way), a
// taken Prometheus address does not stop MQTT publishing; ListenerError
// and one OnListener call say why, and once the address is free the
// listener binds, OnListener hears nil and /metrics answers. Without
// ListenRetry (`telemetry publish`), Run fails at once.
func TestPrometheusListenerTaken(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "")
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()

	c := testConfig(b.url(), randName("n"))
	c.PrometheusListen = addr
	p, err := NewPublisher(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Run without ListenRetry on a taken address: %v, want an error naming %s", err, addr)
	}

	c.ListenRetry = 100 * time.Millisecond
	var mu sync.Mutex
	var heard []error
	c.OnListener = func(err error) {
		mu.Lock()
		heard = append(heard, err)
		mu.Unlock()
	}
	sub := subscribe(t, b.url(), randName("s"), c.Prefix+"/"+c.NodeID+"/telemetry/#")
	p = startPublisher(t, c)
	waitFor(t, 30*time.Second, "samples published while the address is taken", func() bool {
		return sub.count(func(mqtt.Message) bool { return true }) >= 3
	})
	if err := p.ListenerError(); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("ListenerError while taken: %v, want one naming %s", err, addr)
	}
	time.Sleep(3 * c.ListenRetry) // retries that fail again say nothing new
	mu.Lock()
	if len(heard) != 1 || heard[0] == nil || !strings.Contains(heard[0].Error(), "address already in use") {
		t.Errorf("OnListener heard %v, want one error: address already in use", heard)
	}
	mu.Unlock()

	taken.Close()
	waitFor(t, 30*time.Second, "the listener bound once the address is free", func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if err := p.ListenerError(); err != nil {
		t.Errorf("ListenerError once serving: %v", err)
	}
	mu.Lock()
	if len(heard) != 2 || heard[1] != nil {
		t.Errorf("OnListener heard %v, want the error and then nil", heard)
	}
	mu.Unlock()
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"scheme", func(c *Config) { c.Broker = "http://x:1883" }, `scheme "http"`},
		{"node", func(c *Config) { c.NodeID = "a/b" }, `node id "a/b"`},
		{"qos", func(c *Config) { c.QoS = 2 }, "qos 2"},
		{"interval", func(c *Config) { c.Interval = 50 * time.Millisecond }, "interval 50ms"},
		{"group interval", func(c *Config) { c.Intervals = map[string]time.Duration{"wifi": time.Millisecond} }, "interval of wifi"},
		{"unknown group", func(c *Config) { c.Collectors = map[string]bool{"gpu": true} }, `unknown collector "gpu"`},
		{"spool", func(c *Config) { c.Spool = "disk" }, `spool "disk"`},
		{"file spool path", func(c *Config) { c.Spool = "file" }, "no spool path"},
		{"format", func(c *Config) { c.Format = "xml" }, `format "xml"`},
		{"cert without key", func(c *Config) { c.CertFile = "c.pem" }, "both cert and key"},
		{"keepalive", func(c *Config) { c.KeepAlive = 0 }, "keepalive"},
		{"listen retry", func(c *Config) { c.ListenRetry = time.Millisecond }, "listen retry 1ms"},
		// Errors are published: a password in the URL never appears in one.
		{"credentials in the URL", func(c *Config) { c.Broker = "tcp://u:s3cret@127.0.0.1:1883" }, "no credentials in the URL"},
		{"not a URL, with a password", func(c *Config) { c.Broker = "tcp://u:s3cret@[::1" }, "broker: not a URL"},
		// Classes of issue 11's corpus: numbers that are no numbers, topic
		// levels with control characters or beyond any node id.
		{"drain rate NaN", func(c *Config) { c.DrainRate = math.NaN() }, "drain rate"},
		{"drain rate Inf", func(c *Config) { c.DrainRate = math.Inf(1) }, "drain rate"},
		{"node id escape", func(c *Config) { c.NodeID = "n1\x1b[2J" }, "node id"},
		{"prefix newline", func(c *Config) { c.Prefix = "nk\nx" }, "prefix"},
		{"node id huge", func(c *Config) { c.NodeID = strings.Repeat("n", 129) }, "node id"},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		c.NodeID = "n1"
		tt.mod(&c)
		_, err := NewPublisher(c)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error quotes the password: %v", tt.name, err)
		}
	}
	c := DefaultConfig()
	c.NodeID = "n1"
	if _, err := NewPublisher(c); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// TestSpoolCapWhileBrokerAway: with the broker away the spool keeps the
// newest messages up to its cap and counts the dropped ones; when the
// broker comes, the kept ones arrive in order, and subscribers of the
// publisher see each sample.
func TestSpoolCapWhileBrokerAway(t *testing.T) {
	t.Parallel()
	needCmd(t, "mosquitto")
	port := freePort(t)
	c := testConfig(fmt.Sprintf("tcp://127.0.0.1:%d", port), randName("n"))
	c.Interval = 100 * time.Millisecond
	c.SpoolMaxBytes = 4096
	c.Collectors["agent"] = true
	p := startPublisher(t, c)
	docs, stop := p.Subscribe()
	defer stop()
	waitFor(t, 60*time.Second, "drops at the cap", func() bool { _, _, d := p.spool.depth(); return d > 10 })
	n, bytes, _ := p.spool.depth()
	if bytes > c.SpoolMaxBytes || n == 0 {
		t.Fatalf("spool holds %d messages, %d bytes, cap %d", n, bytes, c.SpoolMaxBytes)
	}
	select {
	case d := <-docs:
		if d.Agent == nil || d.Seq == 0 {
			t.Errorf("subscriber got %+v", d)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no document for the subscriber")
	}
	waitFor(t, 30*time.Second, "the agent group to count drops", func() bool {
		d := p.Latest()
		return d != nil && d.Agent != nil && d.Agent.DroppedTotal > 0 && d.Agent.SpoolDepth > 0 && d.Agent.Connected == 0
	})
	// The broker comes: what is left arrives, in order.
	b := &broker{t: t, dir: t.TempDir(), port: port}
	sub := func() *subscriber {
		b.start()
		t.Cleanup(b.stop)
		return subscribe(t, b.url(), "", "nodekeeper/"+c.NodeID+"/telemetry/system")
	}()
	waitFor(t, 60*time.Second, "new samples after the backlog", func() bool { return len(sub.on("nodekeeper/"+c.NodeID+"/telemetry/system")) > 5 })
	seqs := seqsOf(t, sub.on("nodekeeper/"+c.NodeID+"/telemetry/system"))
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("out of order: %v", seqs)
		}
	}
}

// TestFileSpoolAcrossRestart: samples taken while the broker is away, by a
// publisher that then stops, are sent by the next run, oldest first.
func TestFileSpoolAcrossRestart(t *testing.T) {
	t.Parallel()
	needCmd(t, "mosquitto")
	port := freePort(t)
	dir := t.TempDir()
	c := testConfig(fmt.Sprintf("tcp://127.0.0.1:%d", port), randName("n"))
	c.Spool, c.SpoolPath, c.SeqPath = "file", dir+"/spool", dir+"/seq"
	p, err := NewPublisher(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, 30*time.Second, "five samples spooled", func() bool { n, _, _ := p.spool.depth(); return n >= 5 })
	cancel()
	<-done
	spooled, _, _ := p.spool.depth()
	if !fileExists(c.SpoolPath) {
		t.Fatal("no spool file after a stop with a backlog")
	}

	b := &broker{t: t, dir: t.TempDir(), port: port}
	b.start()
	t.Cleanup(b.stop)
	topic := "nodekeeper/" + c.NodeID + "/telemetry/system"
	sub := subscribe(t, b.url(), "", topic)
	startPublisher(t, c)
	waitFor(t, 60*time.Second, "the spooled samples and new ones", func() bool { return len(sub.on(topic)) >= spooled+3 })
	seqs := seqsOf(t, sub.on(topic))
	checkExactlyOnceInOrder(t, seqs) // 1.. from the first run, then the second run's
}

// TestDrainLimitOnlyForBacklog: the drain limit paces the backlog an outage
// leaves, never live samples. With a drain rate far below the sampling rate
// (5 messages/s against 10 samples/s) a connected publisher keeps up and its
// limit holds no message; after an outage it holds backlog messages only,
// and everything arrives once, in order. The test counts the messages the
// limit held, not time.
func TestDrainLimitOnlyForBacklog(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "")
	px := startProxy(t, fmt.Sprintf("127.0.0.1:%d", b.port))
	node := randName("n")
	topic := "nodekeeper/" + node + "/telemetry/system"
	sub := subscribe(t, b.url(), "", topic)
	c := testConfig(px.url(), node)
	c.Interval = 100 * time.Millisecond
	c.DrainRate, c.DrainBurst = 5, 1
	p := startPublisher(t, c)
	// One message a sample (the system group, no events): spool ids are
	// seqs. received waits until the subscriber has seen seq.
	received := func(what string, seq uint64) {
		waitFor(t, 2*time.Minute, what, func() bool {
			s := sub.on(topic)
			return len(s) > 0 && seqsOf(t, s[len(s)-1:])[0] >= seq
		})
	}
	waitFor(t, time.Minute, "the first connection", func() bool { return p.drain.backlog.Load() > 0 || len(sub.on(topic)) > 0 })
	received("the first backlog", p.drain.backlog.Load()+1)
	held := p.drain.held.Load()
	received("50 live samples", p.Latest().Seq+50)
	if h := p.drain.held.Load(); h != held {
		t.Errorf("the drain limit held %d live messages", h-held)
	}

	px.cut()
	waitFor(t, 30*time.Second, "the publisher to see the cut", func() bool { return !p.Connected() })
	first := p.drain.backlog.Load()
	waitFor(t, 30*time.Second, "a backlog of 10", func() bool { n, _, _ := p.spool.depth(); return n >= 10 })
	px.restore()
	waitFor(t, time.Minute, "the reconnection", func() bool { return p.drain.backlog.Load() > first })
	end := p.drain.backlog.Load()
	n, _, _ := p.spool.depth()
	backlog := uint64(n)
	received("the backlog", end)
	heldBacklog := p.drain.held.Load() - held
	if heldBacklog == 0 || heldBacklog > backlog {
		t.Errorf("the drain limit held %d messages of a backlog of about %d: want some, at most the backlog", heldBacklog, backlog)
	}
	received("50 live samples after the backlog", p.Latest().Seq+50)
	if h := p.drain.held.Load() - held; h != heldBacklog {
		t.Errorf("the drain limit held %d live messages after the backlog", h-heldBacklog)
	}
	checkExactlyOnceInOrder(t, seqsOf(t, sub.on(topic)))
	if _, _, dropped := p.spool.depth(); dropped != 0 {
		t.Errorf("%d messages dropped", dropped)
	}
}
