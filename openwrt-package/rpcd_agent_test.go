package openwrtpackage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// agentConfig is a node without slivers, network or remote management, its
// broker a loopback port nothing listens on, its files in dir.
func agentConfig(dir string, port int) string {
	return fmt.Sprintf(`
config agent 'agent'
	option node_id 'rpcd-test'
	option log_target 'stderr'
	option state_dir '%[1]s/state'
	option run_dir '%[1]s/run'

config telemetry 'telemetry'
	option broker 'tcp://127.0.0.1:%[2]d'
	option interval '1'
	option start_delay '-1'
	option seq_path '%[1]s/run/telemetry.seq'
	option spool_path '%[1]s/run/spool'
	list collectors '-wifi'

config policy 'policy'
	option dir '%[1]s/policies'

config slivers 'slivers'
	option enabled '0'

config remote 'remote'
	option enabled '0'

config network 'network'
	option enabled '0'
`, dir, port)
}

// freePort is a loopback TCP port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// TestRPCDPluginAgent runs the rpcd plugin against a real agent (the
// package's amd64 binary) through its control socket: each method answers
// from the running agent.
func TestRPCDPluginAgent(t *testing.T) {
	requireCommand(t, "dash")
	bin := testBinary(t, "amd64", "")
	dir := t.TempDir()
	for _, d := range []string{"policies", "state", "run"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "nodekeeper"), []byte(agentConfig(dir, freePort(t))))
	writeFile(t, filepath.Join(dir, "policies", "cpu-guard.lua"), readFile(t, "files/policies/cpu-guard.lua"))
	// The plugin runs `nodekeeper ...`: this one is the agent's CLI with
	// the test's config directory.
	pathDir := t.TempDir()
	writeFile(t, filepath.Join(pathDir, "nodekeeper"), []byte("#!/bin/sh\nexec "+bin+" \"$@\" --config-dir "+dir+"\n"))

	var logb bytes.Buffer
	agent := exec.Command(bin, "run", "--config-dir", dir)
	agent.Stdout, agent.Stderr = &logb, &logb
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		agent.Process.Kill()
		agent.Wait()
		if t.Failed() {
			t.Logf("agent log:\n%s", logb.String())
		}
	})

	call := func(method string) map[string]any {
		t.Helper()
		cmd := exec.Command("dash", rpcdPlugin, "call", method)
		cmd.Env = []string{"PATH=" + pathDir + ":/usr/bin:/bin"}
		cmd.Stdin = strings.NewReader("{}")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("call %s: %v", method, err)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("call %s printed %q: %v", method, out, err)
		}
		return m
	}
	// until polls method until ok accepts its answer (the agent starting,
	// its first sample), at most a minute.
	until := func(method string, ok func(map[string]any) bool) map[string]any {
		t.Helper()
		var m map[string]any
		for range 120 {
			if m = call(method); ok(m) {
				return m
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Fatalf("call %s: still %v", method, m)
		return nil
	}

	st := until("status", func(m map[string]any) bool { return m["error"] == nil })
	pol, _ := st["policies"].(map[string]any)
	if st["node"] != "rpcd-test" || st["connected"] != false || pol["loaded"] != float64(1) ||
		!strings.HasPrefix(fmt.Sprint(st["broker"]), "tcp://127.0.0.1:") {
		t.Errorf("status = %v: want node rpcd-test, not connected, one policy loaded, the config's broker", st)
	}
	pl := call("policy_list")
	ps, _ := pl["policies"].([]any)
	if len(ps) != 1 || ps[0].(map[string]any)["name"] == nil {
		t.Errorf("policy_list = %v: want the one policy", pl)
	}
	if sl := call("sliver_list"); !strings.Contains(fmt.Sprint(sl["error"]), "sliver") {
		t.Errorf("sliver_list = %v: want the agent's error (slivers are disabled)", sl)
	}
	sample := until("telemetry_sample", func(m map[string]any) bool { return m["error"] == nil })
	if sample["node"] != "rpcd-test" {
		t.Errorf("telemetry_sample = %v: want the agent's sample of node rpcd-test", sample)
	}

	// Without the agent, every method says so.
	agent.Process.Kill()
	agent.Wait()
	if m := call("status"); !strings.Contains(fmt.Sprint(m["error"]), "no agent is running") {
		t.Errorf("status without an agent = %v", m)
	}
}
