// Package deliver brings one signed document to one node and learns what
// became of it: the seq from the node's own state report, the envelope
// signed and published retained, and the node's next state reports
// followed until they say applied, refused or failed. The rollout and
// `nodekeeper-fleet push --wait` both deliver this way.
package deliver

import (
	"context"
	"strings"
	"sync"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
)

// Watcher keeps an inventory up to date from the nodes' live status and
// state topics.
type Watcher struct {
	mu   sync.Mutex
	inv  *inventory.Inventory
	v    inventory.Verifier
	gen  uint64
	wake chan struct{} // closed and replaced at every change
	// offline counts, per node, how often its status went to offline.
	offline map[string]int
}

// Watch subscribes to the status and state of node (every node: "+")
// and applies what comes to inv (which the caller no longer touches but
// through the Watcher).
func Watch(ctx context.Context, c *broker.Conn, inv *inventory.Inventory, v inventory.Verifier, node string) (*Watcher, error) {
	w := &Watcher{inv: inv, v: v, wake: make(chan struct{}), offline: map[string]int{}}
	for _, leaf := range []string{"status", "state"} {
		if err := c.Subscribe(ctx, c.Prefix()+"/"+node+"/"+leaf, func(topic string, payload []byte) { w.on(c.Prefix(), topic, payload) }); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func (w *Watcher) on(prefix, topic string, payload []byte) {
	rest, ok := strings.CutPrefix(topic, prefix+"/")
	if !ok {
		return
	}
	id, leaf, ok := strings.Cut(rest, "/")
	if !ok || strings.HasPrefix(id, "_") {
		return
	}
	w.mu.Lock()
	n := w.inv.Node(id)
	was := n.Status
	n.Apply(leaf, payload, w.v)
	if leaf == "status" && n.Status == "offline" && was != "offline" {
		w.offline[id]++
	}
	w.gen++
	close(w.wake)
	w.wake = make(chan struct{})
	w.mu.Unlock()
}

// View runs f with the inventory locked.
func (w *Watcher) View(f func(inv *inventory.Inventory)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(w.inv)
}

// Offline returns how often the node went offline since the watch began.
func (w *Watcher) Offline(id string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.offline[id]
}

// Pushed records a document just published for the node: the retained
// desired document the inventory compares with.
func (w *Watcher) Pushed(id string, seq uint64, doc []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.inv.Node(id)
	n.Desired = &inventory.Desired{Seq: seq, Document: doc}
}

// OfflineLocked is Offline for a cond of Until (which holds the lock).
func (w *Watcher) OfflineLocked(id string) int { return w.offline[id] }

// Until waits until cond (called with the inventory locked) holds, or
// ctx ends.
func (w *Watcher) Until(ctx context.Context, cond func(inv *inventory.Inventory) bool) error {
	for {
		w.mu.Lock()
		ok := cond(w.inv)
		wake := w.wake
		w.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
