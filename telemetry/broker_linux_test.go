package telemetry

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// broker is a mosquitto started by a test on a free loopback port.
type broker struct {
	t      testing.TB
	dir    string
	port   int
	extra  string // more configuration lines
	cmd    *exec.Cmd
	exited chan struct{}
	log    *os.File
}

// freePort asks the kernel for a free loopback port.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startBroker starts mosquitto with the given extra configuration lines;
// it is stopped when the test ends.
func startBroker(t testing.TB, extra string) *broker {
	t.Helper()
	needCmd(t, "mosquitto")
	b := &broker{t: t, dir: t.TempDir(), port: freePort(t), extra: extra}
	b.start()
	t.Cleanup(b.stop)
	return b
}

func (b *broker) url() string { return fmt.Sprintf("tcp://127.0.0.1:%d", b.port) }

func (b *broker) start() {
	b.t.Helper()
	conf := filepath.Join(b.dir, "mosquitto.conf")
	// As root mosquitto would switch to its own user, which cannot read the
	// test's 0700 temporary directory: keep root.
	text := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\n%s\n", b.port, b.extra)
	if os.Geteuid() == 0 {
		text = "user root\n" + text
	}
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		b.t.Fatal(err)
	}
	log, err := os.OpenFile(filepath.Join(b.dir, "mosquitto.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		b.t.Fatal(err)
	}
	b.log = log
	b.cmd = exec.Command("mosquitto", "-c", conf)
	b.cmd.Stdout, b.cmd.Stderr = log, log
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	exited := make(chan struct{})
	b.exited = exited
	go func(cmd *exec.Cmd) { cmd.Wait(); close(exited) }(b.cmd)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", b.port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			b.t.Fatalf("mosquitto exited: %s", b.logText())
		default:
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("mosquitto does not listen on %d: %s", b.port, b.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends mosquitto with SIGTERM (it saves its persistence file) and
// waits for it.
func (b *broker) stop() {
	if b.cmd == nil {
		return
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-b.exited
	}
	b.cmd = nil
	b.log.Close()
}

func (b *broker) logText() string {
	out, _ := os.ReadFile(filepath.Join(b.dir, "mosquitto.log"))
	return string(out)
}

// waitFor polls cond until it holds or the timeout passes (generous: the
// machine is shared).
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// subscriber records what a topic filter receives, connected directly to
// the broker.
type subscriber struct {
	mu   sync.Mutex
	msgs []mqtt.Message
	c    mqtt.Client
}

// subscribe connects a paho client (persistent session when id is set, so
// a broker restart loses nothing) and subscribes at QoS 1.
func subscribe(t testing.TB, brokerURL, id, filter string) *subscriber {
	t.Helper()
	s := &subscriber{}
	clean := id == ""
	if clean {
		id = randName("sub")
	}
	o := mqtt.NewClientOptions().AddBroker(brokerURL).SetClientID(id).SetCleanSession(clean).
		SetAutoReconnect(true).SetMaxReconnectInterval(500 * time.Millisecond).SetConnectRetry(true).
		SetConnectRetryInterval(200 * time.Millisecond).SetKeepAlive(5 * time.Second).SetOrderMatters(true)
	handler := func(_ mqtt.Client, m mqtt.Message) {
		s.mu.Lock()
		s.msgs = append(s.msgs, m)
		s.mu.Unlock()
	}
	// With a persistent session the broker resends queued messages before a
	// SUBSCRIBE is processed: the default handler takes those.
	o.SetDefaultPublishHandler(handler)
	probe := "probe/" + randName("")
	o.SetOnConnectHandler(func(c mqtt.Client) {
		// Completes asynchronously: never wait in a handler.
		c.SubscribeMultiple(map[string]byte{filter: 1, probe: 1}, handler)
	})
	s.c = mqtt.NewClient(o)
	if tok := s.c.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	// Wait until the subscription is in place: a retained probe comes back.
	waitFor(t, 30*time.Second, "the subscription", func() bool {
		s.c.Publish(probe, 0, false, "probe").WaitTimeout(time.Second)
		return s.count(func(m mqtt.Message) bool { return m.Topic() == probe }) > 0
	})
	t.Cleanup(func() { s.c.Disconnect(100) })
	return s
}

func (s *subscriber) count(pred func(mqtt.Message) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.msgs {
		if pred(m) {
			n++
		}
	}
	return n
}

func (s *subscriber) on(topic string) []mqtt.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []mqtt.Message
	for _, m := range s.msgs {
		if m.Topic() == topic {
			out = append(out, m)
		}
	}
	return out
}

// proxy is a TCP proxy to the broker that the test can cut and restore.
// A cut is a black hole, like a radio link that fades: connections stay
// open but bytes are dropped both ways, so the publisher only notices
// through its keepalive, with a message sent into the void.
type proxy struct {
	t      testing.TB
	addr   string
	target string
	ln     net.Listener
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.closeAll()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) url() string { return "tcp://" + p.addr }

func (p *proxy) isDown() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.down
}

// cut starts dropping every byte.
func (p *proxy) cut() {
	p.mu.Lock()
	p.down = true
	p.mu.Unlock()
}

// restore closes the connections that lost bytes and forwards again.
func (p *proxy) restore() {
	p.closeAll()
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

func (p *proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *proxy) track(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		p.conns[c] = true
	}
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.isDown() { // a black hole: swallow what the client sends
			p.track(c)
			p.wg.Add(1)
			go func() { defer p.wg.Done(); io.Copy(io.Discard, c); c.Close() }()
			continue
		}
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.track(c, u)
		p.wg.Add(2)
		go func() { defer p.wg.Done(); p.pipe(u, c) }()
		go func() { defer p.wg.Done(); p.pipe(c, u) }()
	}
}

// pipe copies src to dst, dropping bytes while the proxy is cut.
func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.isDown() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
