package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nodekeeper/nodekeeper/telemetry"
	"github.com/nodekeeper/nodekeeper/wire"
)

// startPublisher builds the MQTT publisher from the configuration in
// force, subscribes it to the desired topic and to the peers, and runs it.
// The publisher's one connection carries everything the agent sends and
// receives. A publisher replacing prev (non-nil) succeeds it (see
// telemetry.Publisher.Adopt): it keeps prev's connection when the broker
// settings stayed.
func (a *Agent) startPublisher(prev *telemetry.Publisher) error {
	cfg := a.config()
	tc := cfg.Telemetry.Config
	tc.Logger = a.log
	if a.slivers != nil {
		tc.Sources.Slivers = a.adapter
	}
	tc.Sources.Policies = policyCounter{a}
	// No message is read whole above what the agent accepts: the desired
	// envelope's limit plus its topic (a longest MQTT topic, 64 KiB).
	tc.MaxMessageBytes = MaxMessageBytes
	desiredTopic := tc.Prefix + "/" + tc.NodeID + "/desired"
	tc.Oversized = func(topic string, size int) {
		if topic == desiredTopic {
			a.onDesired(topic, nil, size)
			return
		}
		a.log.Warn("MQTT message dropped unread: too big", "topic", topic, "bytes", size, "limit", MaxMessageBytes)
	}
	// A taken Prometheus address does not silence the node: MQTT goes on,
	// the state report carries a `telemetry` error, and the address is
	// tried again until it binds (then the error clears).
	tc.ListenRetry = listenRetry
	tc.OnListener = func(err error) {
		if err != nil {
			a.internalError("telemetry", err)
			return
		}
		a.markDirty()
	}
	pub, err := telemetry.NewPublisher(tc)
	if err != nil {
		if prev != nil {
			prev.Close()
		}
		return fmt.Errorf("%s: config telemetry: %w", cfg.File, err)
	}
	if remoteOn(cfg) {
		// At the start and whenever a reload turns it on (SIGHUP after a
		// trusted key was added): the admin sees it in the log.
		a.log.Info("remote management on: desired documents are taken", "topic", pub.Topic("desired"),
			"trusted_keys", len(cfg.Remote.TrustedKeys), "threshold", cfg.Remote.Threshold)
		pub.SubscribeTopic(pub.Topic("desired"), func(topic string, payload []byte) { a.onDesired(topic, payload, len(payload)) })
	} else if cfg.Remote.Enabled {
		a.log.Info("remote management off: no remote.trusted_key")
	}
	prefix := tc.Prefix
	for _, p := range peerFilters(cfg) {
		pub.SubscribeTopic(prefix+"/"+p+"/document", func(topic string, payload []byte) {
			if node, ok := peerOf(prefix, topic, "document"); ok && node != tc.NodeID {
				a.peers.document(node, payload)
			}
		})
		pub.SubscribeTopic(prefix+"/"+p+"/status", func(topic string, payload []byte) {
			if node, ok := peerOf(prefix, topic, "status"); ok && node != tc.NodeID {
				a.peers.status(node, payload)
			}
		})
	}
	if prev != nil {
		pub.Adopt(prev)
	}
	ctx, cancel := context.WithCancel(a.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := pub.Run(ctx); err != nil {
			a.mu.Lock()
			a.pubFailed = pub
			a.mu.Unlock()
			a.internalError("telemetry", err)
		}
	}()
	docs, unsubscribe := pub.Subscribe()
	go func() {
		defer unsubscribe()
		for {
			select {
			case <-ctx.Done():
				return
			case doc := <-docs:
				if cfg.Telemetry.PublishDocument {
					if b, err := json.Marshal(doc); err == nil {
						pub.Enqueue(pub.Topic("document"), a.overridden(b), 0, false)
					}
				}
			}
		}
	}()
	a.mu.Lock()
	a.pub = pub
	a.pubStop = func() { cancel(); <-done }
	a.lastSent, a.infoSent = nil, nil
	a.mu.Unlock()
	a.markDirty()
	return nil
}

// listenRetry is how often a Prometheus address that was taken is tried
// again.
const listenRetry = 10 * time.Second

// restartPublisher replaces the publisher (the telemetry settings or the
// subscriptions changed) without the node ever looking offline: the new
// one keeps the old one's connection when the broker settings stayed, and
// otherwise reconnects and announces online at once.
func (a *Agent) restartPublisher() error {
	cfg := a.config()
	a.mu.Lock()
	stop, prev := a.pubStop, a.pub
	a.pubStop = nil
	a.mu.Unlock()
	if prev != nil {
		prev.Replace(&cfg.Telemetry.Config)
	}
	if stop != nil {
		stop()
	}
	a.peers.retain(peerFilters(cfg))
	return a.startPublisher(prev)
}

// peerFilters are the peers subscribed to: node names, or "+" for all.
func peerFilters(cfg *Config) []string {
	if cfg.Remote.PeersAll {
		return []string{"+"}
	}
	return cfg.Remote.Peers
}

// MaxMessageBytes bounds every MQTT message the agent reads (desired
// envelopes, peers' documents and status, anything it subscribes to): one
// above it is read through in small chunks and dropped, never held
// (docs/remote.md). It is the envelope limit plus a longest topic.
const MaxMessageBytes = wire.MaxEnvelopeBytes + 64<<10

// onDesired receives the retained desired envelope of size bytes (payload
// nil: it was dropped unread). It runs on paho's goroutine: it keeps a
// copy of the latest one for runDesired and returns.
func (a *Agent) onDesired(_ string, payload []byte, size int) {
	m := envelopeMsg{size: size}
	if payload != nil && len(payload) <= wire.MaxEnvelopeBytes { // a bigger one is refused unread
		m.payload = append([]byte{}, payload...)
	}
	for {
		select {
		case a.desired <- m:
			return
		default:
			select {
			case <-a.desired: // an older one not handled yet: the newer wins
			default:
			}
		}
	}
}

// envelopeMsg is a desired envelope as received.
type envelopeMsg struct {
	payload []byte
	size    int
}

// policyCounter gives telemetry's agent group the policy counts.
type policyCounter struct{ a *Agent }

// PolicyCounts implements telemetry.PolicyCounter.
func (p policyCounter) PolicyCounts() (loaded, quarantined int) {
	e := p.a.policyEngine()
	if e == nil {
		return 0, 0
	}
	now := time.Now()
	for _, s := range e.Policies() {
		loaded++
		if s.QuarantinedUntil.After(now) {
			quarantined++
		}
	}
	return loaded, quarantined
}
