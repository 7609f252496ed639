package agent

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/wire"
)

// TestInfoTopic: the agent publishes who it is, retained and signed by its
// own identity, on <prefix>/<node>/info: labels, tags, location and its
// policies with their last decisions. New decisions alone republish it at
// most once per telemetry interval; a reload that adds a label does at
// once. `policy list --json` shows the same last decisions.
func TestInfoTopic(t *testing.T) {
	requireRoot(t, "mosquitto", "nsenter")
	ns := newNetns(t)
	startBroker(t, ns)
	dir := t.TempDir()
	node := "info-" + randHex(6)
	conf := filepath.Join(dir, "config")
	config := func(labels string) string {
		return fmt.Sprintf(`
config agent 'agent'
	option node_id '%[1]s'
	option log_level 'debug'
	option log_target 'stderr'
	option state_dir '%[2]s/state'
	option run_dir '%[2]s/run'
	list label 'owner=alice'
	list label 'outdoor'
%[3]s	option latitude '41.3874'
	option longitude '2.1686'

config telemetry 'telemetry'
	option broker 'tcp://127.0.0.1:1883'
	option start_delay '-1'
	option interval '3600'
	list collectors '-wifi'

config policy 'policy'
	option dir '%[2]s/policies'

config slivers 'slivers'
	option enabled '0'
`, node, dir, labels)
	}
	writeFile(t, filepath.Join(conf, "nodekeeper"), config(""))
	writeFile(t, filepath.Join(dir, "policies", "tick.lua"), `policy "tick" { every = "1s", act = function(node) alert("info", "tick") end }`)
	infoTopic, stateTopic := "nodekeeper/"+node+"/info", "nodekeeper/"+node+"/state"
	w := newWatcher(t, ns, infoTopic, stateTopic, "nodekeeper/"+node+"/events")
	agent := startAgent(t, ns, conf)

	// The node's key, as its signed state report names it (VerifyState
	// checks that it signed the report).
	var nodeKey wire.PublicKey
	eventually(t, "the signed state report", time.Minute, func() error {
		st, ok := w.state(node)
		if !ok {
			return fmt.Errorf("state %s", w.latest(stateTopic))
		}
		k, err := wire.ParsePublicKey([]byte(st.NodeKey))
		nodeKey = k
		return err
	})
	info := func() (*wire.Info, error) {
		b := w.latest(infoTopic)
		if b == nil {
			return nil, fmt.Errorf("no info yet")
		}
		i, err := wire.VerifyInfo(nodeKey, b)
		if err != nil {
			return nil, fmt.Errorf("info %s: %v", b, err)
		}
		if i.Node != node || i.TS <= 0 {
			return nil, fmt.Errorf("info of node %q at %v: %s", i.Node, i.TS, b)
		}
		return i, nil
	}
	eventually(t, "the signed info with the policy", time.Minute, func() error {
		i, err := info()
		if err != nil {
			return err
		}
		if i.Labels["owner"] != "alice" || len(i.Labels) != 1 || !slices.Equal(i.Tags, []string{"outdoor"}) ||
			i.Location == nil || *i.Location != (wire.Location{Lat: 41.3874, Lon: 2.1686}) ||
			len(i.Policies) != 1 || i.Policies[0].File != "tick.lua" || i.Policies[0].Name != "tick" {
			return fmt.Errorf("info %+v", i)
		}
		return nil
	})
	// A decision every second: within the hour's interval they alone do
	// not publish the info again (the look every 5 s would, three times).
	eventually(t, "16 decisions", time.Minute, func() error {
		if n := len(w.eventsWith(`"policy_action"`)); n < 16 {
			return fmt.Errorf("%d decisions", n)
		}
		return nil
	})
	if n := w.count(infoTopic); n > 2 {
		t.Errorf("the info was published %d times: new decisions alone republish it at most once per telemetry interval", n)
	}

	writeFile(t, filepath.Join(conf, "nodekeeper"), config("\tlist label 'site=rooftop-3'\n"))
	agent.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "the info with the new label and the last decision", time.Minute, func() error {
		i, err := info()
		if err != nil {
			return err
		}
		if i.Labels["site"] != "rooftop-3" || i.Labels["owner"] != "alice" || len(i.Policies) != 1 {
			return fmt.Errorf("info %+v", i)
		}
		if d := i.Policies[0].LastDecision; d == nil || !d.Fired || d.Actions != 1 || d.Time.IsZero() {
			return fmt.Errorf("last decision %+v", d)
		}
		return nil
	})

	out, code := nk(t, exec.Command(nkBin, "policy", "list", "--json", "--socket", filepath.Join(dir, "run", "control.sock")))
	var list []struct {
		Name         string `json:"name"`
		LastDecision *struct {
			Fired   bool `json:"fired"`
			Actions []struct {
				Action string `json:"action"`
				Result string `json:"result"`
			} `json:"actions"`
		} `json:"last_decision"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].LastDecision == nil ||
		!list[0].LastDecision.Fired || len(list[0].LastDecision.Actions) != 1 || !strings.Contains(out, `"result"`) {
		t.Errorf("policy list --json: exit %d: %s", code, out)
	}
}
