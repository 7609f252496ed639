package agent

import (
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/wire"
)

// internalErrorsConfig is a node whose network namespace (netns) does not
// exist yet and whose Prometheus listener asks for listen, an address that
// may be taken ("": none).
func internalErrorsConfig(node, dir, netns, listen string) string {
	if listen != "" {
		listen = "\toption prometheus_listen '" + listen + "'\n"
	}
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
%[4]s	list collectors '-wifi'

config policy 'policy'
	option dir '%[2]s/policies'

config slivers 'slivers'
	option enabled '0'

config network 'network'
	option enabled '1'
	option netns '%[3]s'
	option state_dir '%[2]s/run/netcfg'
`, node, dir, netns, listen)
}

// TestInternalErrorsClear: the errors of the agent's own parts clear when
// the part later succeeds, without a restart, and the state report is
// published again. The network's namespace is missing at the start (a
// `network` error) and is created: the next reload syncs the network and
// the error clears. A reload asks for a Prometheus address that is
// taken: the node goes on publishing, its state report carries a
// `telemetry` error, and once the address is free the listener binds and
// the error clears, without another reload.
func TestInternalErrorsClear(t *testing.T) {
	requireRoot(t, "unshare")
	ns := newNetns(t)
	startBroker(t, ns)
	dir := t.TempDir()
	node := "ierr-" + randHex(6)
	netns := "nkag-" + randHex(8) // created below, removed at the end
	// The listener's address, taken in the agent's namespace.
	taken, err := listenInNetns(ns, "127.0.0.1:19100")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	conf := filepath.Join(dir, "config")
	writeFile(t, filepath.Join(conf, "nodekeeper"), internalErrorsConfig(node, dir, netns, ""))
	w := newWatcher(t, ns, "nodekeeper/#")
	stateTopic := "nodekeeper/" + node + "/state"
	kinds := func(r wire.StateReport) string {
		var k []string
		for _, e := range r.Errors {
			k = append(k, e.Kind)
		}
		return strings.Join(k, ",")
	}
	errorsAre := func(what, want string) {
		t.Helper()
		eventually(t, what, time.Minute, func() error {
			r, ok := w.state(node)
			if !ok {
				return fmt.Errorf("no state")
			}
			if kinds(r) != want {
				return fmt.Errorf("errors %q, want %q: %s", kinds(r), want, w.latest(stateTopic))
			}
			return nil
		})
	}

	// statusErrors waits for `nodekeeper status --json` to list errors of
	// kinds want: a node whose publisher does not run publishes nothing.
	statusErrors := func(what, want string) {
		t.Helper()
		eventually(t, what, time.Minute, func() error {
			out, code := nk(t, inNetns(ns, nkBin, "status", "--json", "--config-dir", conf))
			var s wire.Status
			if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
				return fmt.Errorf("status: exit %d: %s", code, out)
			}
			if kinds(s.StateReport) != want {
				return fmt.Errorf("errors %q, want %q: %s", kinds(s.StateReport), want, out)
			}
			return nil
		})
	}

	agent := startAgent(t, ns, conf)
	errorsAre("the network fails at the start", "network")

	if out, err := exec.Command("ip", "netns", "add", netns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", netns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", netns, err, out)
		}
	})
	agent.cmd.Process.Signal(syscall.SIGHUP)
	errorsAre("the network synced after its namespace appeared", "")

	replaceFile(t, filepath.Join(conf, "nodekeeper"), internalErrorsConfig(node, dir, netns, "127.0.0.1:19100"))
	agent.cmd.Process.Signal(syscall.SIGHUP)
	errorsAre("the listener's address is taken: said in the published state report", "telemetry")
	statusErrors("the listener's address is taken", "telemetry")
	out, _ := nk(t, inNetns(ns, nkBin, "status", "--config-dir", conf))
	if !strings.Contains(out, "(connected)") {
		t.Errorf("status while the listener's address is taken: want the broker connected:\n%s", out)
	}

	taken.Close()
	errorsAre("the listener bound once its address was free", "")
	statusErrors("the listener bound once its address was free", "")
	if err := doInNetns(ns, func() error {
		c, err := net.Dial("tcp", "127.0.0.1:19100")
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		t.Errorf("the agent's Prometheus listener: %v", err)
	}
}

// listenInNetns listens on addr (TCP) inside the network namespace ns.
func listenInNetns(ns, addr string) (l net.Listener, err error) {
	err = doInNetns(ns, func() (err error) {
		l, err = net.Listen("tcp", addr)
		return err
	})
	return l, err
}
