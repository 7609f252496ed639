package agent

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/wire"
)

// watchPeers alerts once with what it reads of its peers' documents, and
// on every peer.up.
const watchPeers = `
policy "watch-peers" {
  every = "1s",
  cooldown = "1h",
  when = function(node)
    for id, doc in pairs(peers()) do
      if doc.system and doc.system.cpu and doc.system.cpu.count then return true end
    end
    return false
  end,
  act = function(node)
    for id, doc in pairs(peers()) do alert("info", "peer %s has %d cpus", id, doc.system.cpu.count) end
  end,
}
policy "peer-up" {
  on = "peer.up",
  act = function(node, ev) alert("info", "peer %s is up", ev.peer) end,
}
`

// TestPeersAggregation: an agent subscribed to a peer hands the peer's
// latest document to its policies as peers(), and its status changes as
// peer.up events.
func TestPeersAggregation(t *testing.T) {
	requireRoot(t)
	ns := newNetns(t)
	startBroker(t, ns)
	key, _ := wire.GenerateKey()
	off := func(cfg string) string {
		cfg = strings.Replace(cfg, "config slivers 'slivers'", "config slivers 'slivers'\n\toption enabled '0'", 1)
		return strings.Replace(cfg, "config network 'network'", "config network 'network'\n\toption enabled '0'", 1)
	}
	a, b := "pa-"+randHex(6), "pb-"+randHex(6)
	dirA, dirB := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(dirA, "config", "nodekeeper"), off(strings.Replace(labConfig(a, dirA, ns, key.Public().String(), ""),
		"config remote 'remote'", "config remote 'remote'\n\tlist peer '"+b+"'", 1)))
	writeFile(t, filepath.Join(dirA, "policies", "peers.lua"), watchPeers)
	writeFile(t, filepath.Join(dirB, "config", "nodekeeper"), off(labConfig(b, dirB, ns, key.Public().String(), "")))
	w := newWatcher(t, ns, "nodekeeper/#")
	startAgent(t, ns, filepath.Join(dirA, "config"))
	eventually(t, "agent A online", time.Minute, func() error {
		if string(w.latest("nodekeeper/"+a+"/status")) != "online" {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	startAgent(t, ns, filepath.Join(dirB, "config"))
	eventually(t, "A's policies see B", time.Minute, func() error {
		if len(w.eventsWith("peer "+b+" is up")) == 0 || len(w.eventsWith("peer "+b+" has ")) == 0 {
			return fmt.Errorf("events: %q", w.eventsWith(`"alert"`))
		}
		return nil
	})
	// An alert's source is the policy that raised it.
	for _, e := range w.eventsWith("peer " + b + " is up") {
		if !strings.Contains(e, `"source":"peer-up"`) {
			t.Errorf("alert event without its policy as source: %s", e)
		}
	}
}
