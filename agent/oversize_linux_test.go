package agent

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/nodekeeper/nodekeeper/policy"
	"github.com/nodekeeper/nodekeeper/telemetry"
	"github.com/nodekeeper/nodekeeper/wire"
)

// startLoopbackBroker starts mosquitto on a free loopback port of the
// test's own network namespace and returns its URL; it stops with the test.
func startLoopbackBroker(t *testing.T) string {
	t.Helper()
	_, err := exec.LookPath("mosquitto")
	requireEnv(t, err == nil, "mosquitto")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	text := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\n", port)
	if os.Geteuid() == 0 {
		text = "user root\n" + text
	}
	writeFile(t, conf, text)
	logf, _ := os.Create(filepath.Join(dir, "mosquitto.log"))
	cmd := exec.Command("mosquitto", "-c", conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		logf.Close()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	eventually(t, "mosquitto listening on "+addr, 30*time.Second, func() error {
		select {
		case <-exited:
			b, _ := os.ReadFile(filepath.Join(dir, "mosquitto.log"))
			t.Fatalf("mosquitto exited: %s", b)
		default:
		}
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err
	})
	return "tcp://" + addr
}

// A message above MaxMessageBytes on any topic the agent subscribes to
// (its desired topic, a peer's document) is read through unheld: no
// handler sees its bytes, the desired one is refused by its size, and the
// connection stays up for what comes next (issue 11, finding 5: a
// retained 100 MB message took the agent to 207 MB and dropped its
// connection at every reconnect).
func TestOversizedMessagesReadThroughUnheld(t *testing.T) {
	broker := startLoopbackBroker(t)
	key, _ := wire.GenerateKey()
	node := "big-" + randHex(6)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	tc := telemetry.DefaultConfig()
	tc.Broker, tc.NodeID, tc.Interval = broker, node, time.Hour
	a := &Agent{
		cfg: &Config{Agent: AgentConfig{NodeID: node}, Telemetry: TelemetryConfig{Config: tc},
			Remote: RemoteConfig{Enabled: true, TrustedKeys: []wire.PublicKey{key.Public()}, Peers: []string{"peer1"}, MaxPeers: 4}},
		log:     slog.New(slog.DiscardHandler),
		ctx:     ctx,
		dirty:   make(chan struct{}, 1),
		events:  make(chan policy.Event, 8),
		desired: make(chan envelopeMsg, 1),
	}
	a.peers = newPeerSet(4, a.event)
	if err := a.startPublisher(nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.pubStop() })

	publish := func(topic string, payload []byte) {
		t.Helper()
		c := tc
		pctx, pcancel := context.WithTimeout(ctx, time.Minute)
		defer pcancel()
		if err := telemetry.PublishOnce(pctx, c, "nk-test-"+randHex(4), topic, payload, true); err != nil {
			t.Fatal(err)
		}
	}
	const big = 8 << 20
	discarded := packets.DiscardedPayloads.Load()
	publish("nodekeeper/peer1/document", bytes.Repeat([]byte(" "), big))
	publish("nodekeeper/"+node+"/desired", bytes.Repeat([]byte("x"), big))
	select {
	case m := <-a.desired:
		if m.payload != nil || m.size != big {
			t.Fatalf("desired message: %d bytes held, size %d; want none held, size %d", len(m.payload), m.size, big)
		}
	case <-time.After(time.Minute):
		t.Fatal("the oversized desired message was not reported")
	}
	if got := packets.DiscardedPayloads.Load() - discarded; got != 2 {
		t.Errorf("%d payloads read through unheld, want 2 (the peer's document and the desired envelope)", got)
	}
	if docs := a.peers.PeerDocuments(); len(docs) != 0 {
		t.Errorf("the peer's oversized document reached the peer set: %d documents", len(docs))
	}
	// The same connection still delivers: a small document and envelope.
	publish("nodekeeper/peer1/document", []byte(`{"ok":1}`))
	publish("nodekeeper/"+node+"/desired", []byte(`{"small":1}`))
	select {
	case m := <-a.desired:
		if string(m.payload) != `{"small":1}` {
			t.Fatalf("desired message after the big one: %q", m.payload)
		}
	case <-time.After(time.Minute):
		t.Fatal("no message after the oversized ones: the connection did not survive")
	}
	eventually(t, "the peer's small document", time.Minute, func() error {
		if string(a.peers.PeerDocuments()["peer1"]) != `{"ok":1}` {
			return fmt.Errorf("peer documents %q", a.peers.PeerDocuments())
		}
		return nil
	})
	if !a.publisher().Connected() {
		t.Error("the agent's connection dropped")
	}
}
