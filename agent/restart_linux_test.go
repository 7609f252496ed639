package agent

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/wire"
)

// restartConfig is a node without slivers or network, remote management on
// with the given trusted keys.
func restartConfig(node, dir string, keys ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `
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
	list collectors '-wifi'

config policy 'policy'
	option dir '%[2]s/policies'

config slivers 'slivers'
	option enabled '0'

config network 'network'
	option enabled '0'

config remote 'remote'
	option confirm_window '5s'
`, node, dir)
	for _, k := range keys {
		fmt.Fprintf(&b, "\tlist trusted_key '%s'\n", k)
	}
	return b.String()
}

// An admin's first week (issue 12): a node with an applied document,
// retained on its desired topic, restarted three times with a reload in
// between (SIGHUP after another admin's key was added), stays quiet: the
// document in force coming back is no news (no desired_refused, no WARN,
// no error in the state report), the node goes offline only when it
// stops (never for a reload), and each signed state report says the
// document applied.
func TestRestartsWithAppliedDocument(t *testing.T) {
	requireRoot(t)
	ns := newNetns(t)
	startBroker(t, ns)
	dir := t.TempDir()
	key, _ := wire.GenerateKey()
	node := "rst-" + randHex(6)
	conf := filepath.Join(dir, "config")
	keys := []string{key.Public().String()}
	writeFile(t, filepath.Join(conf, "nodekeeper"), restartConfig(node, dir, keys...))
	w := newWatcher(t, ns, "nodekeeper/#")
	statusTopic, stateTopic := "nodekeeper/"+node+"/status", "nodekeeper/"+node+"/state"

	// waitUp waits for the node online and its signed state report with
	// the document applied.
	var pinned *wire.PublicKey
	waitUp := func(what string, startedBefore int) {
		t.Helper()
		eventually(t, what, time.Minute, func() error {
			if w.statusSeen(statusTopic, "online") <= startedBefore {
				return fmt.Errorf("status %q", w.latest(statusTopic))
			}
			r, k, err := wire.OpenState(w.latest(stateTopic))
			if err != nil {
				return err
			}
			if r.AppliedSeq != 1 || r.SeenSeq != 1 || r.Policies.Loaded != 1 {
				return fmt.Errorf("state %s", w.latest(stateTopic))
			}
			if pinned == nil {
				pinned = &k
			}
			if _, err := wire.VerifyState(*pinned, w.latest(stateTopic)); err != nil {
				return fmt.Errorf("the node's key changed across a restart: %v", err)
			}
			if len(r.Errors) != 0 {
				t.Fatalf("%s: errors in the state report: %+v", what, r.Errors)
			}
			return nil
		})
	}

	agent := startAgent(t, ns, conf)
	eventually(t, "online", time.Minute, func() error {
		if string(w.latest(statusTopic)) != "online" {
			return fmt.Errorf("status %q", w.latest(statusTopic))
		}
		return nil
	})
	doc := mustJSON(t, wire.Desired{Node: node, Seq: 1, Policies: &map[string]string{"throttle.lua": throttlePolicy}})
	env, _ := wire.Seal(key, doc)
	w.publish("nodekeeper/"+node+"/desired", env, true)
	waitUp("the document applied", 0)
	if n := len(w.eventsWith(`"desired_applied"`)); n != 1 {
		t.Fatalf("%d desired_applied events, want 1", n)
	}
	if e := w.eventsWith(`"desired_applied"`)[0]; !strings.Contains(e, "policies throttle.lua") {
		t.Errorf("desired_applied does not list what changed: %s", e)
	}

	for i := 1; i <= 3; i++ {
		// A reload that keeps the broker settings: another admin's key.
		other, _ := wire.GenerateKey()
		keys = append(keys, other.Public().String())
		writeFile(t, filepath.Join(conf, "nodekeeper"), restartConfig(node, dir, keys...))
		reloads := strings.Count(agent.log.String(), "configuration reloaded")
		agent.cmd.Process.Signal(syscall.SIGHUP)
		eventually(t, fmt.Sprintf("reload %d", i), time.Minute, func() error {
			if strings.Count(agent.log.String(), "configuration reloaded") <= reloads {
				return fmt.Errorf("not reloaded yet")
			}
			return nil
		})
		if n := w.statusSeen(statusTopic, "offline"); n != i-1 {
			t.Errorf("reload %d: %d offline messages, want %d (one per stop, none for a reload)", i, n, i-1)
		}
		onlineBefore := w.statusSeen(statusTopic, "online")
		agent.stop(30 * time.Second)
		eventually(t, fmt.Sprintf("stop %d: offline", i), time.Minute, func() error {
			if n := w.statusSeen(statusTopic, "offline"); n != i {
				return fmt.Errorf("%d offline messages, want %d", n, i)
			}
			return nil
		})
		agent = startAgent(t, ns, conf)
		waitUp(fmt.Sprintf("restart %d", i), onlineBefore)
		eventually(t, fmt.Sprintf("restart %d: the retained document handled", i), time.Minute, func() error {
			if !strings.Contains(agent.log.String(), "desired document in force received again") {
				return fmt.Errorf("not yet")
			}
			return nil
		})
		if strings.Contains(agent.log.String(), "level=WARN") {
			t.Errorf("restart %d: a warning:\n%s", i, agent.log.String())
		}
	}
	if e := w.eventsWith("desired_refused"); len(e) != 0 {
		t.Errorf("desired_refused events: %q", e)
	}
	// The state report, after it all, is still clean and signed by the key
	// pinned at first sight.
	waitUp("the end", 0)

	// status says remote management is on, with how many keys, the seqs
	// and the node's key (the one its reports are signed with).
	out, code := nk(t, inNetns(ns, nkBin, "status", "--config-dir", conf))
	for _, want := range []string{"on, 4 trusted keys", "applied seq 1, last seen 1", "node key:", pinned.String()} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("status: exit %d, lacks %q:\n%s", code, want, out)
		}
	}

	// A refused config is an error until a reload succeeds.
	stateErrors := func() ([]wire.ErrorEntry, error) {
		r, err := wire.VerifyState(*pinned, w.latest(stateTopic))
		if err != nil {
			return nil, err
		}
		return r.Errors, nil
	}
	writeFile(t, filepath.Join(conf, "nodekeeper"), restartConfig(node, dir, keys...)+"\tlist bogus 'x'\n")
	agent.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "the refused config in the state report", time.Minute, func() error {
		if errs, err := stateErrors(); err != nil || len(errs) != 1 || errs[0].Kind != "config" {
			return fmt.Errorf("errors %+v (%v)", errs, err)
		}
		return nil
	})
	writeFile(t, filepath.Join(conf, "nodekeeper"), restartConfig(node, dir, keys...))
	agent.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "the config error cleared by a good reload", time.Minute, func() error {
		if errs, err := stateErrors(); err != nil || len(errs) != 0 {
			return fmt.Errorf("errors %+v (%v)", errs, err)
		}
		return nil
	})

	// What status shows is published: a policy file the owner drops into
	// the directory (nothing marks the state changed but the look).
	writeFile(t, filepath.Join(dir, "policies", "owner.lua"), strings.Replace(throttlePolicy, `policy "throttle"`, `policy "owner"`, 1))
	eventually(t, "the new policy on the state topic", time.Minute, func() error {
		r, err := wire.VerifyState(*pinned, w.latest(stateTopic))
		if err != nil || r.Policies.Loaded != 2 {
			return fmt.Errorf("state %s (%v)", w.latest(stateTopic), err)
		}
		return nil
	})
}
