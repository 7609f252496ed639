package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/wire"
)

// admitPolicy is the owner's admission policy: slivers of slice "exp" only,
// and none asking for more than 128 MiB.
const admitPolicy = `
policy "owner-admission" {
  on = "sliver.admit",
  act = function(node, req)
    if req.slice ~= "exp" then refuse("slice %s is not allowed here", req.slice) end
    if (req.resources.memory_bytes or 0) > 128 * 1048576 then
      refuse("%s asks for %d MiB, more than 128", req.sliver, req.resources.memory_bytes / 1048576)
    end
  end,
}
`

// TestOwnerKeepsTheLastWord: what `list unmanaged` names is left out of a
// document and the refusal reported, admission policies refuse slivers
// before they are allocated, and a document with one invalid part is
// refused whole.
func TestOwnerKeepsTheLastWord(t *testing.T) {
	requireRoot(t, "lxc-start")
	ns := newNetns(t)
	startBroker(t, ns)
	dir := t.TempDir()
	t.Cleanup(func() { sweepContainers(t, ns, filepath.Join(dir, "slivers", "lxc")) })
	key, _ := wire.GenerateKey()
	node := "own-" + randHex(6)
	conf := filepath.Join(dir, "config", "nodekeeper")
	writeFile(t, conf, strings.Replace(labConfig(node, dir, ns, key.Public().String(), ""),
		"config network 'network'", `	list unmanaged 'telemetry'
	list unmanaged 'slice:private'
	list unmanaged 'policy:keep.lua'

config network 'network'
	option enabled '0'`, 1))
	keep := "-- the owner's own policy file\n"
	writeFile(t, filepath.Join(dir, "policies", "keep.lua"), keep)
	writeFile(t, filepath.Join(dir, "policies", "admit.lua"), admitPolicy)
	w := newWatcher(t, ns, "nodekeeper/#")
	startAgent(t, ns, filepath.Dir(conf))
	eventually(t, "state published", time.Minute, func() error {
		if st, ok := w.state(node); !ok || st.Policies.Loaded != 1 {
			return fmt.Errorf("state %s", w.latest("nodekeeper/"+node+"/state"))
		}
		return nil
	})

	tmpl := busyboxTemplate(t)
	pols := map[string]string{"keep.lua": "-- replaced\n"}
	doc := wire.Desired{Node: node, Seq: 1,
		Settings: map[string]wire.Setting{
			"telemetry.interval": {Values: []string{"5"}},
			"agent.log_level":    {Values: []string{"warn"}},
			"remote.trusted_key": {Values: []string{"an-intruders-key"}, List: true},
		},
		Slivers: rawSlivers(t,
			container.Spec{Name: "big", Slice: "exp", Template: tmpl, Request: container.Start, Resources: container.Resources{MemoryBytes: 1 << 30}},
			container.Spec{Name: "other", Slice: "games", Template: tmpl, Request: container.Start},
			container.Spec{Name: "mine", Slice: "private", Template: tmpl, Request: container.Start},
		),
		Policies: &pols,
	}
	env, _ := wire.Seal(key, mustJSON(t, doc))
	w.publish("nodekeeper/"+node+"/desired", env, true)
	wantErrors := []string{
		"unmanaged (list unmanaged 'telemetry'): not changed",
		"only the node's owner sets remote.trusted_key",
		"refused by policy owner-admission: big asks for 1024 MiB, more than 128",
		"refused by policy owner-admission: slice games is not allowed here",
		"unmanaged (list unmanaged 'slice:private'): not changed",
		"unmanaged (list unmanaged 'policy:keep.lua'): not changed",
	}
	eventually(t, "document 1 applied without the owner's parts", time.Minute, func() error {
		st, _ := w.state(node)
		if st.AppliedSeq != 1 {
			return fmt.Errorf("state %s", w.latest("nodekeeper/"+node+"/state"))
		}
		for _, e := range wantErrors {
			if !hasError(st, e) {
				return fmt.Errorf("no error %q in %s", e, w.latest("nodekeeper/"+node+"/state"))
			}
		}
		return nil
	})
	st, _ := w.state(node)
	if len(st.Slivers) != 0 {
		t.Errorf("slivers were created: %+v", st.Slivers)
	}
	b, _ := os.ReadFile(conf)
	if !strings.Contains(string(b), "option log_level 'warn'") || strings.Contains(string(b), "'5'") || strings.Contains(string(b), "an-intruders-key") {
		t.Errorf("config after document 1:\n%s", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "policies", "keep.lua")); string(b) != keep {
		t.Errorf("keep.lua changed: %q", b)
	}

	// One bad part refuses the whole document: nothing of it applies.
	bad := map[string]string{"new.lua": "policy \"x\" {\n  every = \"1s\",\n  act = function() undefined_call( end,\n}\n"}
	env, _ = wire.Seal(key, mustJSON(t, wire.Desired{Node: node, Seq: 2, Policies: &bad,
		Settings: map[string]wire.Setting{"agent.log_level": {Values: []string{"debug"}}}}))
	w.publish("nodekeeper/"+node+"/desired", env, true)
	eventually(t, "document 2 refused", time.Minute, func() error {
		st, _ := w.state(node)
		if st.SeenSeq != 2 || !hasError(st, "policy check: new.lua:3") {
			return fmt.Errorf("state %s", w.latest("nodekeeper/"+node+"/state"))
		}
		return nil
	})
	st, _ = w.state(node)
	b, _ = os.ReadFile(conf)
	if st.AppliedSeq != 1 || !strings.Contains(string(b), "option log_level 'warn'") {
		t.Errorf("document 2 applied in part: applied seq %d, config:\n%s", st.AppliedSeq, b)
	}
	if _, err := os.Stat(filepath.Join(dir, "policies", "new.lua")); err == nil {
		t.Error("new.lua was written")
	}
}
