package agent

import (
	"fmt"
	"github.com/nodekeeper/nodekeeper/wire"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// TestReloadKeepsTheNodeOnline: a reload never makes the node look dead on
// its retained status topic. Reloads that keep the broker settings (a
// trusted key added, the interval changed) keep the MQTT connection; one
// that changes them (the keepalive) reconnects without "offline" and
// without the last will, and announces "online" again.
func TestReloadKeepsTheNodeOnline(t *testing.T) {
	requireRoot(t, "mosquitto", "nsenter")
	ns := newNetns(t)
	startBroker(t, ns)
	dir := t.TempDir()
	node := "reload-" + randHex(6)
	key, _ := wire.GenerateKey()
	conf := filepath.Join(dir, "config")
	config := func(telemetry, remote string) string {
		return fmt.Sprintf(`
config agent 'agent'
	option node_id '%[1]s'
	option log_level 'debug'
	option log_target 'stderr'
	option state_dir '%[2]s/state'
	option run_dir '%[2]s/run'

config telemetry 'telemetry'
	option broker 'tcp://127.0.0.1:1883'
	option start_delay '-1'
	list collectors '-wifi'
%[3]s
config policy 'policy'
	option dir '%[2]s/policies'

config slivers 'slivers'
	option enabled '0'

config remote 'remote'
%[4]s`, node, dir, telemetry, remote)
	}
	writeFile(t, filepath.Join(conf, "nodekeeper"), config("\toption interval '3600'\n", ""))

	statusTopic := "nodekeeper/" + node + "/status"
	w := newWatcher(t, ns)
	var mu sync.Mutex
	var statuses []string
	if tk := w.cl.Subscribe(statusTopic, 1, func(_ mqtt.Client, m mqtt.Message) {
		mu.Lock()
		statuses = append(statuses, string(m.Payload()))
		mu.Unlock()
	}); !tk.WaitTimeout(30*time.Second) || tk.Error() != nil {
		t.Fatalf("subscribe: %v", tk.Error())
	}
	seen := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(statuses)
	}
	agent := startAgent(t, ns, conf)
	// Each publisher announces "online" on its connection: the n-th one
	// arrives after anything the previous publisher sent on that topic.
	onlines := func(n int) {
		t.Helper()
		eventually(t, fmt.Sprintf("%d online announcements", n), time.Minute, func() error {
			if got := seen(); strings.Count(strings.Join(got, " "), "online") < n {
				return fmt.Errorf("status messages %q", got)
			}
			return nil
		})
	}
	connections := func() int { return strings.Count(agent.log.String(), "mqtt connected") }
	onlines(1)
	sock := filepath.Join(dir, "run", "control.sock")
	ctl := func(args ...string) string {
		t.Helper()
		out, code := nk(t, exec.Command(nkBin, append(args, "--socket", sock)...))
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, out)
		}
		return out
	}
	if out := ctl("telemetry", "sample"); !strings.Contains(out, `"rss_bytes"`) {
		t.Fatalf("telemetry sample before the first scheduled one: %s", out)
	}
	resident := func(when string) {
		t.Helper()
		if out := ctl("status"); !strings.Contains(out, "KiB resident") || strings.Contains(out, " 0 KiB") {
			t.Errorf("status %s: %s", when, out)
		}
	}
	resident("after the sample")

	steps := []struct {
		name, telemetry, remote string
		connections             int // "mqtt connected" in the log after the reload
	}{
		{"a trusted key added", "\toption interval '3600'\n", "\tlist trusted_key '" + key.Public().String() + "'\n", 1},
		{"the interval changed", "\toption interval '3599'\n", "\tlist trusted_key '" + key.Public().String() + "'\n", 1},
		{"the keepalive changed", "\toption interval '3599'\n\toption keepalive '20'\n", "\tlist trusted_key '" + key.Public().String() + "'\n", 2},
	}
	for i, s := range steps {
		writeFile(t, filepath.Join(conf, "nodekeeper"), config(s.telemetry, s.remote))
		agent.cmd.Process.Signal(syscall.SIGHUP)
		eventually(t, "reload "+s.name, time.Minute, func() error {
			if n := strings.Count(agent.log.String(), "configuration reloaded"); n < i+1 {
				return fmt.Errorf("%d reloads logged", n)
			}
			return nil
		})
		onlines(i + 2)
		if got := seen(); slices.Contains(got, "offline") {
			t.Fatalf("after a reload (%s) the status topic said offline: %q", s.name, got)
		}
		if n := connections(); n != s.connections {
			t.Errorf("after a reload (%s): %d connections, want %d", s.name, n, s.connections)
		}
		resident("after a reload (" + s.name + ")")
		if i == 0 {
			// Turning remote management on by SIGHUP is logged.
			if !strings.Contains(agent.log.String(), "remote management on: desired documents are taken") {
				t.Errorf("remote management turned on by SIGHUP, not logged:\n%s", agent.log.String())
			}
			// The kept connection took the new subscription: a signed
			// document is applied.
			keyFile := filepath.Join(dir, "admin.sec")
			writeFile(t, keyFile, string(wire.MarshalSecretKey(key)))
			docFile := filepath.Join(dir, "doc1.json")
			writeFile(t, docFile, `{"node":"`+node+`","seq":1,"node_state":"production"}`)
			if out, code := nk(t, inNetns(ns, nkBin, "push", "--broker", "tcp://127.0.0.1:1883", "-k", keyFile, node, docFile)); code != 0 {
				t.Fatalf("nodekeeper push: exit %d: %s", code, out)
			}
			eventually(t, "document 1 applied over the kept connection", time.Minute, func() error {
				if out := ctl("status"); !strings.Contains(out, "applied seq 1") {
					return fmt.Errorf("status: %s", out)
				}
				return nil
			})
		}
	}
}
