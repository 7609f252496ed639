package telemetry

import (
	"context"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// sendWindow is how many spooled messages may be in flight (published, not
// yet acknowledged) at once: a cycle's messages go out together instead of
// one round trip each. Order holds: the broker acknowledges QoS 1 in order
// (MQTT 3.1.1, 4.6), the spool drops a message only once it and every one
// before it are acknowledged, and after a lost connection or a missing
// acknowledgement everything from the oldest unacknowledged message on is
// sent again, in order.
const sendWindow = 16

// inFlight is a published message waiting for its acknowledgement.
type inFlight struct {
	id   uint64
	tok  mqtt.Token
	sent time.Time
}

// drainStats count what the drain limit did, for tests and the agent.
type drainStats struct {
	held    atomic.Uint64 // messages the limit made wait
	backlog atomic.Uint64 // the backlog of the current connection: spool ids up to this one
}

// sendLoop publishes the spool in order, up to sendWindow messages in
// flight, and removes each message once acknowledged. After each
// (re)connection it first publishes the retained "online" status (and
// discovery configs). The drain limit (DrainRate, DrainBurst) paces only
// the backlog, the messages that were waiting when the connection came up;
// live samples are never held back by it.
func (p *Publisher) sendLoop(ctx context.Context) {
	lim := newRateLimiter(p.cfg.DrainRate, p.cfg.DrainBurst, time.Now())
	var (
		announced uint64
		backlog   uint64 // the spool's messages up to this id are the backlog
		last      uint64 // the last message published on this connection
		lastHeld  uint64 // the last message counted in p.held
		flight    []inFlight
	)
	ackTimer := newStoppedTimer()
	limTimer := newStoppedTimer()
	defer ackTimer.Stop()
	defer limTimer.Stop()
	resend := func() { flight, last = flight[:0], 0 }
	for ctx.Err() == nil {
		if !p.client.IsConnectionOpen() {
			resend()
			select {
			case <-p.connCh:
			case <-ctx.Done():
			}
			continue
		}
		gen := p.connGen.Load()
		if gen != announced {
			resend()
			backlog = p.spool.last()
			p.drain.backlog.Store(backlog)
			if !p.announce(ctx, gen) {
				continue
			}
			announced = gen
		}
		select {
		case <-p.haWake:
			if p.cfg.HADiscovery {
				p.publishDiscovery(ctx, gen)
			}
		default:
		}
		// Fill the window.
		var limWait time.Duration
		for len(flight) < sendWindow {
			m, ok := p.spool.after(last)
			if !ok {
				break
			}
			now := time.Now()
			if m.id <= backlog {
				if limWait = lim.take(now); limWait > 0 {
					if m.id != lastHeld {
						lastHeld = m.id
						p.drain.held.Add(1)
					}
					break
				}
			}
			flight = append(flight, inFlight{id: m.id, tok: p.client.Publish(m.Topic, m.QoS, m.Retained, m.Payload), sent: now})
			last = m.id
		}
		var limC <-chan time.Time
		if limWait > 0 {
			limTimer.Reset(limWait)
			limC = limTimer.C
		}
		var more <-chan struct{} // room in the window for what is pushed next
		if len(flight) < sendWindow && limWait == 0 {
			more = p.spool.notify()
		}
		if len(flight) == 0 {
			select {
			case <-more:
			case <-limC:
			case <-p.connCh:
			case <-p.haWake:
				signal(p.haWake)
			case <-ctx.Done():
			}
			stopTimer(limTimer)
			continue
		}
		head := &flight[0]
		ackTimer.Reset(time.Until(head.sent.Add(p.cfg.AckTimeout)))
		select {
		case <-head.tok.Done():
			if err := head.tok.Error(); err != nil {
				p.log.Debug("publish failed", "err", err)
				resend()
				// The connection is going; wait for paho to say so
				// rather than spin.
				select {
				case <-p.connCh:
				case <-time.After(time.Second):
				case <-ctx.Done():
				}
				break
			}
			p.spool.ack(head.id)
			p.published.Add(1)
			n := copy(flight, flight[1:])
			flight = flight[:n]
		case <-ackTimer.C:
			p.log.Warn("no acknowledgement, sending again", "timeout", p.cfg.AckTimeout, "in_flight", len(flight))
			resend()
		case <-more:
		case <-limC:
		case <-p.connCh:
		case <-ctx.Done():
		}
		stopTimer(ackTimer)
		stopTimer(limTimer)
	}
}

func newStoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// stopTimer stops t; since Go 1.23 a stopped timer's channel holds no
// stale tick, so Reset needs no draining.
func stopTimer(t *time.Timer) { t.Stop() }

// rateLimiter is a token bucket.
type rateLimiter struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst int, now time.Time) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// take takes a token at now and returns 0, or returns how long until one
// is there (taking none).
func (l *rateLimiter) take(now time.Time) time.Duration {
	l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return 0
	}
	return time.Duration((1-l.tokens)/l.rate*float64(time.Second)) + time.Millisecond
}
