package agent

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/wire"
)

// failureConfig is a node that enters the failure state as it starts: its
// network namespace does not exist (an internal error of the network) and
// one internal error is enough (failure_threshold 1). Its slivers work.
func failureConfig(node, dir, ns, key string) string {
	return fmt.Sprintf(`
config agent 'agent'
	option node_id '%[1]s'
	option log_level 'debug'
	option log_target 'stderr'
	option state_dir '%[2]s/state'
	option run_dir '%[2]s/run'
	option failure_threshold '1'

config telemetry 'telemetry'
	option broker 'tcp://127.0.0.1:1883'
	option interval '1'
	option start_delay '-1'
	list collectors '-wifi'

config policy 'policy'
	option dir '%[2]s/policies'

config slivers 'slivers'
	option state_dir '%[2]s/slivers'
	option netns '%[3]s'
	option stop_timeout '2s'
	option remote_local_archives '1'

config network 'network'
	option enabled '1'
	option netns '%[2]s/no-such-netns'
	option state_dir '%[2]s/run/netcfg'

config remote 'remote'
	list trusted_key '%[4]s'
	option confirm_window '5s'
`, node, dir, ns, key)
}

// TestLeavingFailure: what the state report says of the failure state is
// what the node does. In failure it says so (node_state and a `node`
// error); once the node leaves it, by a reload or by a document that
// applies, the `node` error clears (the network's own error stays: its
// namespace is still missing), and a sliver the failure held down is given
// back its request (a document applied in failure asked it to start).
// A sliver removed from the CLI leaves the state topic at once.
func TestLeavingFailure(t *testing.T) {
	requireRoot(t, "lxc-start", "unshare")
	ns := newNetns(t)
	startBroker(t, ns)
	dir := t.TempDir()
	t.Cleanup(func() { sweepContainers(t, ns, filepath.Join(dir, "slivers", "lxc")) })
	key, _ := wire.GenerateKey()
	node := "fail-" + randHex(6)
	conf := filepath.Join(dir, "config")
	writeFile(t, filepath.Join(conf, "nodekeeper"), failureConfig(node, dir, ns, key.Public().String()))
	w := newWatcher(t, ns, "nodekeeper/#")
	stateTopic := "nodekeeper/" + node + "/state"

	kinds := func(r wire.StateReport) string {
		var k []string
		for _, e := range r.Errors {
			k = append(k, e.Kind)
		}
		return strings.Join(k, ",")
	}
	// inState waits for a state report with node_state want whose errors
	// are, by kind, errKinds; check may ask more of it.
	inState := func(what string, want NodeState, errKinds string, check func(wire.StateReport) error) {
		t.Helper()
		eventually(t, what, 2*time.Minute, func() error {
			r, ok := w.state(node)
			if !ok {
				return fmt.Errorf("no state")
			}
			if r.NodeState != string(want) || kinds(r) != errKinds {
				return fmt.Errorf("node_state %s, errors %q, want %s and %q: %s", r.NodeState, kinds(r), want, errKinds, w.latest(stateTopic))
			}
			if check != nil {
				return check(r)
			}
			return nil
		})
	}

	// Left by a reload.
	agent := startAgent(t, ns, conf)
	inState("failure at the start", Failure, "network,node", nil)
	agent.cmd.Process.Signal(syscall.SIGHUP)
	inState("failure left by a reload", Production, "network", nil)
	agent.stop(30 * time.Second)

	// Left by a document, which asks a sliver to start while the node is
	// in failure: held down to deploy, then given back.
	startAgent(t, ns, conf) // stopped when the test ends
	inState("failure at the next start", Failure, "network,node", nil)
	spec := container.Spec{Name: "s1", Slice: "exp", Template: busyboxTemplate(t), Request: container.Start,
		Resources: container.Resources{MemoryBytes: 64 << 20}}
	doc := mustJSON(t, wire.Desired{Node: node, Seq: 1, Slivers: rawSlivers(t, spec)})
	env, _ := wire.Seal(key, doc)
	w.publish("nodekeeper/"+node+"/desired", env, true)
	inState("failure left by a document", Production, "network", func(r wire.StateReport) error {
		if r.AppliedSeq != 1 || len(r.Slivers) != 1 {
			return fmt.Errorf("not applied: %s", w.latest(stateTopic))
		}
		if s := r.Slivers[0]; s.SetState != string(container.Start) || s.Held != "" || s.State != string(container.Started) {
			return fmt.Errorf("sliver s1 still held down: %+v", s)
		}
		return nil
	})

	// A sliver removed from the CLI: the state topic says so at once.
	if out, code := nk(t, exec.Command(nkBin, "sliver", "remove", "s1", "--socket", filepath.Join(dir, "run", "control.sock"))); code != 0 {
		t.Fatalf("sliver remove: exit %d: %s", code, out)
	}
	inState("the sliver removed from the CLI", Production, "network", func(r wire.StateReport) error {
		if len(r.Slivers) != 0 {
			return fmt.Errorf("slivers %+v", r.Slivers)
		}
		return nil
	})
}
