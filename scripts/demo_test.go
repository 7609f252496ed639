// Package scripts holds the tests of the project's scripts; the scripts
// themselves are shell (and `go run` helpers built with the ignore tag).
package scripts

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// need fails under CI=true, and skips elsewhere, when the machine lacks
// what the demo needs.
func need(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("the demo needs %s (CI=true: failing, not skipping)", what)
	}
	t.Skipf("the demo needs %s (fails under CI=true)", what)
}

// buildNodekeeper builds the binary the demo runs.
func buildNodekeeper(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "nodekeeper")
	build := exec.Command("go", "build", "-o", bin, "github.com/nodekeeper/nodekeeper/cmd/nodekeeper")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The fleet tool beside it (startDemo names it to the demo).
	build = exec.Command("go", "build", "-o", bin+"-fleet", "github.com/nodekeeper/nodekeeper/cmd/nodekeeper-fleet")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// syncBuffer is the demo's output, read while it runs.
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

// demo runs scripts/demo.sh in its own process group with env added.
type demo struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

func startDemo(t *testing.T, bin string, env ...string) *demo {
	t.Helper()
	d := &demo{out: &syncBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command("bash", "demo.sh")
	// The web view on a free port of this machine.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	d.cmd.Env = append(append(os.Environ(), "NODEKEEPER="+bin, "NODEKEEPER_FLEET="+bin+"-fleet", fmt.Sprintf("DEMO_WEB_PORT=%d", port)), env...)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			syscall.Kill(-d.cmd.Process.Pid, syscall.SIGINT)
			select {
			case <-d.done:
			case <-time.After(time.Minute):
				syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
				<-d.done
			}
		}
		if t.Failed() {
			t.Logf("demo output:\n%s", d.out.String())
		}
	})
	return d
}

// wait waits for the demo to end, at most timeout.
func (d *demo) wait(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-d.done:
	case <-time.After(timeout):
		t.Fatalf("the demo did not end within %v", timeout)
	}
}

// waitOutput waits until the demo printed s.
func (d *demo) waitOutput(t *testing.T, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(d.out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("the demo did not print %q within %v", s, timeout)
		}
		select {
		case <-d.done:
			t.Fatalf("the demo ended (%v) without printing %q", d.err, s)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

var labLine = regexp.MustCompile(`prefix (nkdemo-[0-9a-f]{4}\b)\), work directory (\S+)`)

// assertNothingLeft checks the host after the demo: no namespace, work
// directory, container or process of the lab.
func assertNothingLeft(t *testing.T, out, bin string) {
	t.Helper()
	m := labLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no lab line in the output")
	}
	tag, work := m[1], m[2]
	if !strings.Contains(out, "left behind: 0 namespaces, 0 processes") {
		t.Errorf("the demo's own check found something left behind")
	}
	ns, _ := exec.Command("ip", "netns", "list").Output()
	if strings.Contains(string(ns), tag) {
		t.Errorf("namespaces left:\n%s", ns)
	}
	if _, err := os.Stat(work); !os.IsNotExist(err) {
		t.Errorf("work directory %s left (%v)", work, err)
	}
	ps, _ := exec.Command("ps", "-eo", "pid,args").Output()
	for _, l := range strings.Split(string(ps), "\n") {
		if strings.Contains(l, work) || strings.Contains(l, bin+" ") {
			t.Errorf("process left: %s", l)
		}
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), work) {
		t.Errorf("mounts left under %s", work)
	}
}

func requireLab(t *testing.T) {
	t.Helper()
	need(t, os.Geteuid() == 0, "root")
	for _, tool := range []string{"ip", "nsenter", "mosquitto", "mosquitto_sub", "lxc-start", "busybox", "tar", "sha256sum"} {
		_, err := exec.LookPath(tool)
		need(t, err == nil, tool)
	}
}

// TestDemoUnattended runs `make demo`'s script as CI would: DEMO_SECONDS
// instead of a keypress. Three agents come online, the signed document
// starts a sliver on node1, the policy it carries caps the sliver when a
// load is faked, the fleet tool rolls a slice out on all three nodes in
// waves, node3's agent is killed and its offline status shows, and
// nothing is left behind.
func TestDemoUnattended(t *testing.T) {
	requireLab(t)
	bin := buildNodekeeper(t)
	d := startDemo(t, bin, "DEMO_SECONDS=2")
	d.wait(t, 5*time.Minute)
	out := d.out.String()
	if d.err != nil {
		t.Fatalf("demo.sh: %v", d.err)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`node1 +status +online`),
		regexp.MustCompile(`node2 +status +online`),
		regexp.MustCompile(`node3 +status +online`),
		regexp.MustCompile(`node1 +telemetry +load [0-9.]+ .*slivers 1/1 running`),
		regexp.MustCompile(`packets transmitted, \d+ packets received, 0% packet loss`),
		regexp.MustCompile(`node1 +state +production +applied seq 1 .*sliver s1 started`),
		regexp.MustCompile(`node1 +event +policy_action demo-load \[info\]: sliver.limit\("s1", cpu=0.5`),
		regexp.MustCompile(`node1 +state .*sliver s1 started \(wants start\) cpu limit 500m`),
		regexp.MustCompile(`wave 1: 1 node\(s\): node1`),
		regexp.MustCompile(`rollout [0-9a-f]+ done: 3 applied`),
		regexp.MustCompile(`mesh +(\S+ +)?3 +3 started`), // OWNER (`-` without one), PLANNED, SLIVERS
		regexp.MustCompile(`(?s)kill -9 node3's agent.*node3 +status +offline`),
		regexp.MustCompile(`open http://127\.0\.0\.1:\d+/ \(live while the demo runs`),
	} {
		if !want.MatchString(out) {
			t.Errorf("the demo's output lacks %v", want)
		}
	}
	assertNothingLeft(t, out, bin)
}

// TestDemoInterrupted interrupts the demo (Ctrl-C: SIGINT to its process
// group) while the sliver comes up: it cleans up all the same.
func TestDemoInterrupted(t *testing.T) {
	requireLab(t)
	bin := buildNodekeeper(t)
	d := startDemo(t, bin, "DEMO_SECONDS=600")
	d.waitOutput(t, "published to nodekeeper/node1/desired", 3*time.Minute)
	time.Sleep(time.Second)
	syscall.Kill(-d.cmd.Process.Pid, syscall.SIGINT)
	d.wait(t, 2*time.Minute)
	if ee, ok := d.err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("demo.sh interrupted: %v, want exit status 130", d.err)
	}
	assertNothingLeft(t, d.out.String(), bin)
}

// TestDemoPolicy runs the policy tests of the policy the demo sends.
func TestDemoPolicy(t *testing.T) {
	bin := buildNodekeeper(t)
	out, err := exec.Command(bin, "policy", "test", "demo").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "0 failed") {
		t.Errorf("policy test demo: %v\n%s", err, out)
	}
}
