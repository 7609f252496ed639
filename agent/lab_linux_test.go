package agent

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/vishvananda/netns"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/wire"
)

// The lab: a network namespace of the test's own with a mosquitto inside,
// a client that reaches it from the test process, and agents run as real
// processes of the built binary inside the namespace. Nothing touches the
// root namespace.

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// newNetns creates a network namespace with lo up, deleted when the test
// ends.
func newNetns(t *testing.T) string {
	t.Helper()
	ns := "nkag-" + randHex(8)
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		requireEnv(t, false, fmt.Sprintf("network namespaces (ip netns add: %v: %s)", err, out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})
	if out, err := exec.Command("ip", "-n", ns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	return ns
}

// inNetns runs argv inside ns (without remounting /sys).
func inNetns(ns string, argv ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=/run/netns/" + ns}, argv...)...)
}

// startBroker runs mosquitto on port 1883 of ns (the namespace is the
// test's own, so the port is free) and stops it when the test ends.
func startBroker(t *testing.T, ns string) {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	os.WriteFile(conf, []byte("user root\nlistener 1883 127.0.0.1\nallow_anonymous true\n"), 0o644)
	logf, _ := os.Create(filepath.Join(dir, "mosquitto.log"))
	cmd := inNetns(ns, "mosquitto", "-c", conf)
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
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := dialInNetns(ns, "127.0.0.1:1883")
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(filepath.Join(dir, "mosquitto.log"))
			t.Fatalf("mosquitto exited: %s", b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mosquitto does not listen in %s: %v", ns, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dialInNetns opens a TCP connection from inside ns: a socket belongs to
// the namespace it was made in, whichever thread uses it later.
func dialInNetns(ns, addr string) (c net.Conn, err error) {
	err = doInNetns(ns, func() (err error) {
		c, err = net.DialTimeout("tcp", addr, 5*time.Second)
		return err
	})
	return c, err
}

// doInNetns runs f on a thread inside the network namespace ns, then
// returns the thread to its own.
func doInNetns(ns string, f func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return err
	}
	defer orig.Close()
	h, err := netns.GetFromName(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		return err
	}
	defer netns.Set(orig)
	return f()
}

// watcher is an MQTT client in the lab that keeps the latest message of
// every topic it sees.
type watcher struct {
	t      *testing.T
	cl     mqtt.Client
	mu     sync.Mutex
	last   map[string][]byte
	seen   map[string]int
	events []string // every message on an events topic
	status []string // every message on a status topic, as "NODE PAYLOAD"
	// unsigned counts state reports that do not open as signed ones
	// (wire.OpenState): admin tools believe no other.
	unsigned int
}

func newWatcher(t *testing.T, ns string, filters ...string) *watcher {
	t.Helper()
	w := &watcher{t: t, last: map[string][]byte{}, seen: map[string]int{}}
	o := mqtt.NewClientOptions().AddBroker("tcp://127.0.0.1:1883").SetClientID("test-" + randHex(8)).
		SetCleanSession(true).SetOrderMatters(false).SetAutoReconnect(true).
		SetCustomOpenConnectionFn(func(u *url.URL, _ mqtt.ClientOptions) (net.Conn, error) {
			return dialInNetns(ns, u.Host)
		})
	w.cl = mqtt.NewClient(o)
	if tk := w.cl.Connect(); !tk.WaitTimeout(30*time.Second) || tk.Error() != nil {
		t.Fatalf("test client: connect: %v", tk.Error())
	}
	t.Cleanup(func() { w.cl.Disconnect(100) })
	for _, f := range filters {
		tk := w.cl.Subscribe(f, 1, func(_ mqtt.Client, m mqtt.Message) {
			w.mu.Lock()
			w.last[m.Topic()] = append([]byte(nil), m.Payload()...)
			w.seen[m.Topic()]++
			if strings.HasSuffix(m.Topic(), "/events") {
				w.events = append(w.events, string(m.Payload()))
			}
			if strings.HasSuffix(m.Topic(), "/status") {
				w.status = append(w.status, m.Topic()+" "+string(m.Payload()))
			}
			if strings.HasSuffix(m.Topic(), "/state") && len(m.Payload()) > 0 {
				if _, _, err := wire.OpenState(m.Payload()); err != nil {
					w.unsigned++
				}
			}
			w.mu.Unlock()
		})
		if !tk.WaitTimeout(30*time.Second) || tk.Error() != nil {
			t.Fatalf("test client: subscribe %s: %v", f, tk.Error())
		}
	}
	return w
}

func (w *watcher) latest(topic string) []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last[topic]
}

func (w *watcher) count(topic string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen[topic]
}

func (w *watcher) publish(topic string, payload []byte, retained bool) {
	w.t.Helper()
	if tk := w.cl.Publish(topic, 1, retained, payload); !tk.WaitTimeout(30*time.Second) || tk.Error() != nil {
		w.t.Fatalf("publish %s: %v", topic, tk.Error())
	}
}

// statusSeen counts the messages payload seen on topic's status topic.
func (w *watcher) statusSeen(topic, payload string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, s := range w.status {
		if s == topic+" "+payload {
			n++
		}
	}
	return n
}

// eventsWith returns the events seen that contain s.
func (w *watcher) eventsWith(s string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, e := range w.events {
		if strings.Contains(e, s) {
			out = append(out, e)
		}
	}
	return out
}

// state decodes the latest state report of node, which must be signed by
// the key it carries.
func (w *watcher) state(node string) (wire.StateReport, bool) {
	b := w.latest("nodekeeper/" + node + "/state")
	if b == nil {
		return wire.StateReport{}, false
	}
	r, _, err := wire.OpenState(b)
	if err != nil {
		return wire.StateReport{}, false
	}
	return *r, true
}

// eventually polls cond until it holds or a generous timeout passes.
func eventually(t *testing.T, what string, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// agentProc is `nodekeeper run` running in the lab.
type agentProc struct {
	cmd    *exec.Cmd
	log    *syncBuffer
	exited chan struct{}
}

// startAgent runs the built binary's agent in ns from the config in
// confDir; the test's end stops it.
func startAgent(t *testing.T, ns, confDir string) *agentProc {
	t.Helper()
	p := &agentProc{log: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = inNetns(ns, nkBin, "run", "--config-dir", confDir)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.stop(10 * time.Second)
		if t.Failed() || testing.Verbose() && os.Getenv("NK_AGENT_LOG") != "" {
			t.Logf("agent log:\n%s", p.log.String())
		}
	})
	return p
}

// stop sends SIGTERM and waits at most timeout (then kills); it returns
// how long the agent took to exit.
func (p *agentProc) stop(timeout time.Duration) time.Duration {
	select {
	case <-p.exited:
		return 0
	default:
	}
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.exited
	}
	return time.Since(start)
}

func (p *agentProc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// nk runs a nodekeeper command (as the CLI user would) and returns its
// output and exit status.
func nk(t *testing.T, cmd *exec.Cmd) (string, int) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	return string(out), 0
}

// busyboxTemplate writes a sliver rootfs tarball made from the host's
// static busybox (init, a shell and a few applets) and returns it as an
// archive by absolute path.
func busyboxTemplate(t *testing.T) container.Archive {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	requireEnv(t, err == nil, "/bin/busybox (busybox-static)")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(h *tar.Header, body []byte) {
		h.ModTime = time.Unix(1700000000, 0)
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	for _, d := range []string{"bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "run", "var"} {
		add(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	}
	add(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755}, bb)
	for _, a := range []string{"sh", "sleep", "cat", "ls", "ip", "touch"} {
		add(&tar.Header{Name: "bin/" + a, Typeflag: tar.TypeSymlink, Linkname: "busybox"}, nil)
	}
	add(&tar.Header{Name: "sbin/init", Typeflag: tar.TypeSymlink, Linkname: "../bin/busybox"}, nil)
	add(&tar.Header{Name: "etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644}, []byte("root:x:0:0:root:/root:/bin/sh\n"))
	add(&tar.Header{Name: "etc/inittab", Typeflag: tar.TypeReg, Mode: 0o644}, []byte("::sysinit:/bin/touch /run/booted\n"))
	tw.Close()
	zw.Close()
	path := filepath.Join(t.TempDir(), "busybox.tar.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return container.Archive{URL: path, SHA256: hex.EncodeToString(sum[:]), Type: "busybox"}
}

// sweepContainers stops and destroys every container under lxcPath in ns
// (what a failed test left running; an agent leaves slivers running on
// purpose).
func sweepContainers(t *testing.T, ns, lxcPath string) {
	d, err := container.NewLXC(container.LXCOptions{Path: lxcPath, Netns: ns})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	names, _ := d.List(ctx)
	for _, n := range names {
		if err := d.Stop(ctx, n, time.Second); err != nil {
			t.Errorf("stop container %s: %v", n, err)
		}
		if err := d.Destroy(ctx, n); err != nil {
			t.Errorf("destroy container %s: %v", n, err)
		}
	}
}

// writeFile writes a test file, failing the test on error.
// replaceFile writes a file the running agent reads by renaming a new
// one over it: the agent never sees it half written.
func replaceFile(t *testing.T, path, text string) {
	t.Helper()
	writeFile(t, path+".new", text)
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
