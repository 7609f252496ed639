package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/wire"
	"github.com/vishvananda/netns"
)

// The real-agent lab: a network namespace of the test's own with a
// mosquitto inside, three agents (`nodekeeper run`, the built binary) and
// the fleet tool (the built binary) run inside it. Nothing touches the
// root namespace.

var (
	binsOnce sync.Once
	binsDir  string
	binsErr  error
)

// bins builds bin/nodekeeper and bin/nodekeeper-fleet once.
func bins(t *testing.T) (agent, fleet string) {
	t.Helper()
	binsOnce.Do(func() {
		binsDir, binsErr = os.MkdirTemp("", "nk-fleet-bins-")
		if binsErr != nil {
			return
		}
		dir := binsDir
		afterAll = append(afterAll, func() { os.RemoveAll(dir) })
		for _, p := range []string{"nodekeeper", "nodekeeper-fleet"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binsDir, p), "github.com/nodekeeper/nodekeeper/cmd/"+p)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				binsErr = fmt.Errorf("build %s: %v\n%s", p, err, out)
				return
			}
		}
	})
	if binsErr != nil {
		t.Fatal(binsErr)
	}
	return filepath.Join(binsDir, "nodekeeper"), filepath.Join(binsDir, "nodekeeper-fleet")
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newNetns creates a network namespace with lo up and mosquitto on
// 127.0.0.1:1883 inside; both go when the test ends.
func newNetns(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		needEnv(t, "root", os.ErrPermission)
	}
	for _, tool := range []string{"ip", "nsenter", "mosquitto"} {
		_, err := exec.LookPath(tool)
		needEnv(t, tool, err)
	}
	ns := "nkfl-" + randHex(4)
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		needEnv(t, "network namespaces", fmt.Errorf("ip netns add: %v: %s", err, out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})
	if out, err := exec.Command("ip", "-n", ns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	os.WriteFile(conf, []byte("user root\nlistener 1883 127.0.0.1\nallow_anonymous true\n"), 0o644)
	start(t, ns, "mosquitto", "-c", conf)
	waitFor(t, "mosquitto in "+ns, func() bool {
		c, err := dialInNetns(ns, "127.0.0.1:1883")
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return ns
}

// dialInNetns opens a TCP connection from inside ns: a socket belongs to
// the namespace it was made in, whichever thread uses it later.
func dialInNetns(ns, addr string) (net.Conn, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return nil, err
	}
	defer orig.Close()
	h, err := netns.GetFromName(ns)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		return nil, err
	}
	defer netns.Set(orig)
	return net.DialTimeout("tcp", addr, 5*time.Second)
}

func inNetns(ns string, argv ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=/run/netns/" + ns}, argv...)...)
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs argv in ns until the test ends (SIGTERM, then SIGKILL).
// start runs argv in ns until the test ends or the returned stop is
// called (SIGTERM, then SIGKILL).
func start(t *testing.T, ns string, argv ...string) (stop func()) {
	t.Helper()
	out := &lockedBuffer{}
	cmd := inNetns(ns, argv...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("%s:\n%s", strings.Join(argv, " "), out.String())
		}
	})
	return stop
}

// agentConfig is a node's UCI config: remote management with the admin's
// key, telemetry to the lab's broker, slivers kept in dir.
func agentConfig(node, dir, ns, key string) string {
	return fmt.Sprintf(`
config agent 'agent'
	option node_id '%[1]s'
	option log_level 'debug'
	option log_target 'stderr'
	option state_dir '%[2]s/state'
	option run_dir '%[2]s/run'

config telemetry 'telemetry'
	option broker 'tcp://127.0.0.1:1883'
	option interval '1'
	option start_delay '-1'
	option override '%[2]s/override.json'
	list collectors '-wifi'

config policy 'policy'
	option dir '%[2]s/policies'

config slivers 'slivers'
	option state_dir '%[2]s/slivers'
	option netns '%[3]s'
	option stop_timeout '2s'
	# The lab's templates are files on the node, named by documents.
	option remote_local_archives '1'

config remote 'remote'
	list trusted_key '%[4]s'
	option confirm_window '5s'

config network 'network'
	option state_dir '%[2]s/run/netcfg'
`, node, dir, ns, key)
}

// rank is the placement's rendezvous hash of a slice and a node.
func rank(slice, node string) uint64 {
	sum := sha256.Sum256([]byte(slice + "\x00" + node))
	return binary.BigEndian.Uint64(sum[:8])
}

// refuseAll is an owner's admission policy that admits no sliver.
const refuseAll = `
policy "owner-admission" {
  on = "sliver.admit",
  act = function(node, req) refuse("no slivers on this roof") end,
}
`

// TestRealAgents: three real agents; a slice placed on 2 of them through
// plan and apply, with one owner refusing it (the slice moves on); then a
// wave that fails on real agents stops the rollout and rolls back.
func TestRealAgents(t *testing.T) {
	ns := newNetns(t)
	agentBin, fleetBin := bins(t)
	tmp := t.TempDir()
	os.Chmod(tmp, 0o755)
	pub, err := wire.WriteKeyPair(filepath.Join(tmp, "admin"))
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"ra-" + randHex(3) + "-1", "ra-" + randHex(3) + "-2", "ra-" + randHex(3) + "-3"}
	// The owner who refuses is one the placement picks first (the highest
	// rendezvous hash of slice and node, fleet/plan), so that the slice
	// must move on.
	refuser := ids[0]
	for _, id := range ids {
		if rank("exp", id) > rank("exp", refuser) {
			refuser = id
		}
	}
	stops := map[string]func(){}
	for _, id := range ids {
		dir := filepath.Join(tmp, id)
		os.MkdirAll(filepath.Join(dir, "config"), 0o755)
		os.MkdirAll(filepath.Join(dir, "policies"), 0o755)
		os.WriteFile(filepath.Join(dir, "config", "nodekeeper"), []byte(agentConfig(id, dir, ns, pub.String())), 0o644)
		if id == refuser {
			os.WriteFile(filepath.Join(dir, "policies", "owner.lua"), []byte(refuseAll), 0o644)
		}
		stops[id] = start(t, ns, agentBin, "run", "--config-dir", filepath.Join(dir, "config"))
	}
	// The first node's owner makes a sliver of their own.
	owner := ids[0]
	waitFor(t, owner+"'s control socket", func() bool {
		return inNetns(ns, agentBin, "status", "--config-dir", filepath.Join(tmp, owner, "config")).Run() == nil
	})
	if out, err := inNetns(ns, agentBin, "sliver", "create", "--config-dir", filepath.Join(tmp, owner, "config"),
		"--template", "/nonexistent/mine.tar.gz", "--sha256", sha, "mine").CombinedOutput(); err != nil {
		t.Fatalf("sliver create: %v\n%s", err, out)
	}
	fleet := func(args ...string) (int, string) {
		cmd := inNetns(ns, append([]string{fleetBin}, append(args, "--broker", "tcp://127.0.0.1:1883", "--quiet", "300ms")...)...)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	type statusJSON struct {
		Nodes []struct {
			Node, Status string
			AppliedSeq   uint64 `json:"applied_seq"`
			Local        []string
			Remote       []string
		}
		Slices []struct {
			Slice  string
			States map[string]int
		}
	}
	status := func() statusJSON {
		var s statusJSON
		_, out := fleet("status", "--json")
		json.Unmarshal([]byte(out), &s)
		return s
	}
	waitFor(t, "three agents online with their states", func() bool {
		n := 0
		for _, row := range status().Nodes {
			if row.Status == "online" {
				n++
			}
		}
		return n == 3
	})

	d := writeTree(t, map[string]string{
		"groups.yaml":     fmt.Sprintf("groups:\n  lab:\n    nodes: [%s]\n", strings.Join(ids, ", ")),
		"slices/exp.yaml": "template: {url: /nonexistent/rootfs.tar.gz, sha256: " + sha + "}\nset_state: register\nplacement: {group: lab, count: 2}\n",
	})
	if st, out := fleet("plan", d); st != 2 {
		t.Fatalf("plan: %d\n%s", st, out)
	}
	st, out := fleet("apply", d, "-k", filepath.Join(tmp, "admin.sec"), "--soak", "2s", "--wave-timeout", "2m")
	if st != 0 {
		t.Fatalf("apply: %d\n%s", st, out)
	}
	if !strings.Contains(out, "refused by policy owner-admission: no slivers on this roof") {
		t.Errorf("apply did not report the owner's refusal:\n%s", out)
	}
	if st, out := fleet("plan", d); st != 0 {
		t.Errorf("plan after apply: %d\n%s", st, out)
	}
	s := status()
	if len(s.Slices) != 1 || s.Slices[0].States["registered"] != 2 {
		t.Errorf("slices after apply: %+v\n%s", s.Slices, out)
	}

	// An aggregation policy moves the slice off a node that stays
	// overloaded (its agent's telemetry override fakes the load).
	var busy string
	for _, n := range s.Nodes {
		if slices.Contains(n.Remote, "exp") {
			busy = n.Node
		}
	}
	if busy == "" {
		t.Fatalf("exp on no node: %+v", s.Nodes)
	}
	os.WriteFile(filepath.Join(tmp, busy, "override.json"), []byte(`{"system":{"load":[9,8,7.5]}}`), 0o644)
	os.MkdirAll(filepath.Join(d, "aggregate"), 0o755)
	os.WriteFile(filepath.Join(d, "aggregate", "move-off-overloaded.lua"), []byte(exampleHeld(t)), 0o644)
	// The first evaluation starts the policy's hold (kept on the broker);
	// the next, seconds later, acts.
	st, out = fleet("apply", d, "-k", filepath.Join(tmp, "admin.sec"), "--soak", "0", "--policies", "on", "--documents", "4s")
	if st != 0 || !strings.Contains(out, "policy move-off-overloaded: condition true, holding") {
		t.Fatalf("apply --policies on, the first evaluation: %d\n%s", st, out)
	}
	st, out = fleet("apply", d, "-k", filepath.Join(tmp, "admin.sec"), "--soak", "0", "--policies", "on", "--documents", "4s")
	if st != 0 || !strings.Contains(out, "slice.move(exp, "+busy+") [applied to the plan]") {
		t.Fatalf("apply --policies on: %d\n%s", st, out)
	}
	for _, n := range status().Nodes {
		if n.Node == busy && slices.Contains(n.Remote, "exp") {
			t.Errorf("exp still on the overloaded %s\n%s", busy, out)
		}
	}
	os.Remove(filepath.Join(d, "aggregate", "move-off-overloaded.lua"))
	os.Remove(filepath.Join(tmp, busy, "override.json"))

	// A wave that fails: the slice now asks to deploy from a template that
	// does not exist; the canary's agent rolls it back, the rollout stops
	// and the canary gets its previous document back.
	registered := func() int {
		for _, sl := range status().Slices {
			if sl.Slice == "exp" {
				return sl.States["registered"]
			}
		}
		return 0
	}
	before := registered()
	os.WriteFile(filepath.Join(d, "slices", "exp.yaml"), []byte("template: {url: /nonexistent/rootfs.tar.gz, sha256: "+sha+"}\nset_state: deploy\nplacement: {group: lab, count: 2}\n"), 0o644)
	st, out = fleet("apply", d, "-k", filepath.Join(tmp, "admin.sec"), "--soak", "0", "--wave-timeout", "2m")
	if st != 1 || !strings.Contains(out, "stopping and rolling the wave back") || !strings.Contains(out, "previous document back") {
		t.Fatalf("failing apply: %d\n%s", st, out)
	}
	waitFor(t, "the rolled-back node applying its previous document", func() bool { return registered() == before })
	if st, out := fleet("status"); st != 0 || !strings.Contains(out, "rolled_back") {
		t.Errorf("status: %d\n%s", st, out)
	}
	// A node offline during a rollout is pending; its retained document
	// reaches it when it comes back.
	off := ids[1]
	if off == refuser {
		off = ids[2]
	}
	stops[off]()
	waitFor(t, off+" offline", func() bool {
		for _, n := range status().Nodes {
			if n.Node == off {
				return n.Status == "offline"
			}
		}
		return false
	})
	os.WriteFile(filepath.Join(d, "slices", "exp.yaml"), []byte("template: {url: /nonexistent/rootfs.tar.gz, sha256: "+sha+"}\nset_state: register\nplacement: {group: lab, count: 2}\n"), 0o644)
	os.WriteFile(filepath.Join(d, "slices", "all.yaml"), []byte("template: {url: /nonexistent/rootfs.tar.gz, sha256: "+sha+"}\nset_state: register\nplacement: {group: lab}\n"), 0o644)
	st, out = fleet("apply", d, "-k", filepath.Join(tmp, "admin.sec"), "--soak", "0", "--policies", "off")
	if st != 0 || !strings.Contains(out, off+" seq") || !strings.Contains(out, "pending") {
		t.Fatalf("apply with %s offline: %d\n%s", off, st, out)
	}
	stops[off] = start(t, ns, agentBin, "run", "--config-dir", filepath.Join(tmp, off, "config"))
	waitFor(t, off+" catching up", func() bool {
		for _, n := range status().Nodes {
			if n.Node == off {
				return n.Status == "online" && slices.Contains(n.Remote, "all")
			}
		}
		return false
	})

	// The owner's own sliver was never touched.
	var local []string
	for _, n := range status().Nodes {
		if n.Node == owner {
			local = n.Local
		}
	}
	if len(local) != 1 || local[0] != "mine" {
		t.Errorf("%s's own slivers: %v, want mine", owner, local)
	}
}
