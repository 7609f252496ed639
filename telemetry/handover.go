package telemetry

import (
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// A configuration reload replaces the publisher. When the broker settings
// stay, the new publisher takes over the old one's MQTT connection, so the
// broker and whoever watches the status topic see nothing happen; when they
// change, the old connection ends with a clean DISCONNECT (no last will) and
// the new one announces "online" as soon as it is up. Either way a reload
// never publishes "offline".

// connOwner routes paho's callbacks to the publisher that owns the
// connection now: the connection outlives a publisher that hands it over.
type connOwner struct{ p atomic.Pointer[Publisher] }

func (o *connOwner) handlers() mqttHandlers {
	return mqttHandlers{
		onConnect: func(c mqtt.Client) { o.p.Load().onConnect(c) },
		onLost:    func(c mqtt.Client, err error) { o.p.Load().onLost(c, err) },
		onNotify:  func(c mqtt.Client, n mqtt.ConnectionNotification) { o.p.Load().onNotify(c, n) },
	}
}

// SameConnection reports whether a publisher built from b connects exactly
// as one built from a: broker, client id, credentials, TLS files,
// keepalive, clean session, reconnection cap and topic prefix (the status
// topic and its last will).
func SameConnection(a, b *Config) bool {
	return a.Broker == b.Broker && a.NodeID == b.NodeID && a.Prefix == b.Prefix &&
		a.Username == b.Username && a.Password == b.Password &&
		a.CAFile == b.CAFile && a.CertFile == b.CertFile && a.KeyFile == b.KeyFile &&
		a.KeepAlive == b.KeepAlive && a.CleanSession == b.CleanSession && a.ReconnectMax == b.ReconnectMax
}

// Replace says that a publisher built from next replaces p: when p's Run
// ends it publishes no "offline". With the same connection settings
// (SameConnection) it leaves the connection open for the successor's
// Adopt; otherwise it disconnects cleanly, so that the broker sends no last
// will, and clears its retained status if next's status topic differs. Call
// it before ending Run's context.
func (p *Publisher) Replace(next *Config) {
	p.next = next // read by Run after its context ended
}

// kept reports whether Run leaves the connection to a successor.
func (p *Publisher) kept() bool {
	return p.next != nil && SameConnection(&p.cfg, p.next)
}

// Adopt makes p, not yet running, succeed old (whose Run has returned):
// p starts from old's latest document (and in-memory sample number), and
// takes over old's connection if old left it open (see Replace).
// Subscriptions both have then stay as they are (the broker does not send
// their retained messages again); messages of old's other ones are
// dropped, and p's new ones start. A RAM spool of the same size is taken over with what it holds. p
// announces "online" again.
func (p *Publisher) Adopt(old *Publisher) {
	p.sampler.carry(old.Latest())
	if p.cfg.SeqPath == "" && old.cfg.SeqPath == "" {
		p.seq = old.seq
	}
	if !old.kept() {
		return
	}
	p.client, p.owner = old.client, old.owner
	p.adopted = true
	p.connGen.Store(old.connGen.Load() + 1) // announce on the kept connection
	if p.fspool == nil && old.fspool == nil && p.cfg.SpoolMaxBytes == old.cfg.SpoolMaxBytes {
		p.spool = old.spool
	}
	p.owner.p.Store(p)
	old.topics.mu.Lock()
	oldSubs := old.topics.m
	old.topics.mu.Unlock()
	p.topics.mu.Lock()
	newSubs := make(map[string]MessageHandler, len(p.topics.m))
	for f, h := range p.topics.m {
		newSubs[f] = h
	}
	p.topics.mu.Unlock()
	open := p.client.IsConnectionOpen()
	for f, h := range newSubs {
		if _, ok := oldSubs[f]; ok {
			p.client.AddRoute(f, func(_ mqtt.Client, m mqtt.Message) { h(m.Topic(), m.Payload()) })
		} else if open {
			go p.subscribe(f, h)
		}
	}
	for f := range oldSubs {
		if _, ok := newSubs[f]; !ok {
			// Its messages are dropped from now on; the broker forgets
			// the subscription at the next clean session.
			p.client.AddRoute(f, func(mqtt.Client, mqtt.Message) {})
		}
	}
}

// Close ends a connection that p's Run left open for a successor that
// never came: it publishes "offline" and disconnects.
func (p *Publisher) Close() {
	if p.kept() && p.owner.p.Load() == p {
		p.next = nil
		p.leave()
	}
}

// leave ends Run's connection as Replace decided.
func (p *Publisher) leave() {
	if p.kept() {
		return
	}
	status := "offline"
	if p.next != nil {
		status = "-" // a planned reconnect: the new connection says online
		if statusTopic(p.next) != statusTopic(&p.cfg) {
			status = "" // the node is no longer there: clear it
		}
	}
	if status != "-" && p.client.IsConnectionOpen() {
		t := p.client.Publish(statusTopic(&p.cfg), 1, true, status)
		if !t.WaitTimeout(2*time.Second) || t.Error() != nil {
			p.log.Warn("could not publish the status", "status", status, "err", t.Error())
		}
	}
	p.client.Disconnect(250)
}
