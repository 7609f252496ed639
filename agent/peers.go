package agent

import (
	"encoding/json"
	"strings"
	"sync"
)

// maxPeerDocument bounds one peer's document kept for policies.
const maxPeerDocument = 256 << 10

// maxPeerBytes bounds the documents of all peers together: max_peers
// (up to 1024) times maxPeerDocument would be 256 MiB, from anyone on the
// broker when peers_all is on. A document that would go beyond is dropped.
const maxPeerBytes = 4 << 20

// peerSet keeps the latest document of each peer node (policies read them
// with peers()) and turns their status topic into peer.up and peer.down
// events. It holds at most max peers.
type peerSet struct {
	max   int
	event func(name string, data map[string]any)

	mu     sync.Mutex
	docs   map[string][]byte
	bytes  int // of docs together, at most maxPeerBytes
	online map[string]bool
}

func newPeerSet(max int, event func(string, map[string]any)) *peerSet {
	return &peerSet{max: max, event: event, docs: map[string][]byte{}, online: map[string]bool{}}
}

// PeerDocuments implements policy.PeerSource.
func (p *peerSet) PeerDocuments() map[string][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string][]byte, len(p.docs))
	for k, v := range p.docs {
		out[k] = v
	}
	return out
}

// peerOf returns the node level of <prefix>/<node>/<what>.
func peerOf(prefix, topic, what string) (string, bool) {
	rest, ok := strings.CutPrefix(topic, prefix+"/")
	if !ok {
		return "", false
	}
	node, tail, ok := strings.Cut(rest, "/")
	if !ok || tail != what || !validTopicLevel(node) {
		return "", false
	}
	return node, true
}

// document stores a peer's document (a copy: paho owns the payload).
func (p *peerSet) document(node string, payload []byte) {
	if len(payload) > maxPeerDocument || !json.Valid(payload) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old, ok := p.docs[node]
	if !ok && len(p.docs) >= p.max {
		return
	}
	if p.bytes-len(old)+len(payload) > maxPeerBytes {
		return
	}
	p.bytes += len(payload) - len(old)
	p.docs[node] = append([]byte(nil), payload...)
}

// status follows a peer's status topic ("online", "offline").
func (p *peerSet) status(node string, payload []byte) {
	up := string(payload) == "online"
	p.mu.Lock()
	was, known := p.online[node]
	if !up {
		// Forgotten, not remembered as down: names a broker user
		// publishes "offline" for would otherwise fill the slots for
		// good and keep real peers out.
		p.bytes -= len(p.docs[node])
		delete(p.docs, node)
		delete(p.online, node)
	} else if known || len(p.online) < p.max {
		p.online[node] = up
	}
	p.mu.Unlock()
	if known && was == up || !known && !up {
		return
	}
	name := "peer.down"
	if up {
		name = "peer.up"
	}
	p.event(name, map[string]any{"peer": node})
}

// retain drops the peers that filters (node names, or "+") no longer
// subscribe to.
func (p *peerSet) retain(filters []string) {
	keep := map[string]bool{}
	for _, f := range filters {
		if f == "+" {
			return
		}
		keep[f] = true
	}
	p.mu.Lock()
	for n := range p.docs {
		if !keep[n] {
			p.bytes -= len(p.docs[n])
			delete(p.docs, n)
		}
	}
	for n := range p.online {
		if !keep[n] {
			delete(p.online, n)
		}
	}
	p.mu.Unlock()
}
