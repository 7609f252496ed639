package telemetry

import (
	"context"
	"errors"
	"fmt"
)

// Topic returns the full name of one of this node's topics:
// <prefix>/<node>/<suffix>.
func (p *Publisher) Topic(suffix string) string {
	return p.cfg.Prefix + "/" + p.cfg.NodeID + "/" + suffix
}

// Enqueue spools one message as samples are spooled: it waits out an outage
// and leaves the spool once the broker acknowledged it. It never blocks.
func (p *Publisher) Enqueue(topic string, payload []byte, qos byte, retained bool) {
	p.spool.push(message{Topic: topic, Payload: payload, QoS: min(qos, 1), Retained: retained})
}

// ErrNotConnected is returned by PublishNow while the broker is not
// connected.
var ErrNotConnected = errors.New("not connected to the broker")

// PublishNow publishes one message at QoS 1 at once, beside the spool, and
// waits for the broker's acknowledgement (at most the ack timeout, or until
// ctx ends). A nil error proves a round trip to the broker.
func (p *Publisher) PublishNow(ctx context.Context, topic string, payload []byte, retained bool) error {
	if !p.client.IsConnectionOpen() {
		return ErrNotConnected
	}
	if !p.publish(ctx, p.connGen.Load(), topic, 1, retained, payload) {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fmt.Errorf("publish %s: no acknowledgement from %s within %v", topic, p.cfg.Broker, p.cfg.AckTimeout)
	}
	return nil
}
