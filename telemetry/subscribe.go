package telemetry

import (
	"sync"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// The agent shares the publisher's one MQTT connection for what it receives
// (signed desired state, peers' documents) and for what it publishes besides
// samples (its retained state): a second client would cost a second
// connection, keepalive and goroutines on the router.

// MessageHandler receives a message of a subscribed topic. It runs on
// paho's goroutine: it must copy what it keeps and return quickly.
type MessageHandler func(topic string, payload []byte)

type topicSubs struct {
	mu sync.Mutex
	m  map[string]MessageHandler
}

// SubscribeTopic subscribes to filter (MQTT wildcards allowed) at QoS 1, now
// if connected and again after every reconnection, so a broker that lost the
// session still delivers. A second call for the same filter replaces h.
func (p *Publisher) SubscribeTopic(filter string, h MessageHandler) {
	p.topics.mu.Lock()
	if p.topics.m == nil {
		p.topics.m = map[string]MessageHandler{}
	}
	p.topics.m[filter] = h
	p.topics.mu.Unlock()
	if p.client.IsConnectionOpen() {
		go p.subscribe(filter, h)
	}
}

// UnsubscribeTopic ends a subscription made with SubscribeTopic.
func (p *Publisher) UnsubscribeTopic(filter string) {
	p.topics.mu.Lock()
	delete(p.topics.m, filter)
	p.topics.mu.Unlock()
	if p.client.IsConnectionOpen() {
		p.client.Unsubscribe(filter).WaitTimeout(p.cfg.AckTimeout)
	}
}

func (p *Publisher) subscribe(filter string, h MessageHandler) {
	t := p.client.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) { h(m.Topic(), m.Payload()) })
	if !t.WaitTimeout(p.cfg.AckTimeout) {
		p.log.Warn("subscribe: no answer", "topic", filter)
	} else if err := t.Error(); err != nil {
		p.log.Warn("subscribe", "topic", filter, "err", err)
	}
}

func (p *Publisher) resubscribe() {
	p.topics.mu.Lock()
	subs := make(map[string]MessageHandler, len(p.topics.m))
	for f, h := range p.topics.m {
		subs[f] = h
	}
	p.topics.mu.Unlock()
	for f, h := range subs {
		p.subscribe(f, h)
	}
}
