package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Publisher samples the node at each group's interval and publishes the
// samples over MQTT through a spool: a message leaves the spool only once
// the broker acknowledged it, so nothing is lost while the broker is away
// (up to the spool's cap). It also serves the latest document to policies,
// subscribers and, optionally, Prometheus.
type Publisher struct {
	cfg     Config
	points  pointArena // sample's, reused from cycle to cycle
	log     *slog.Logger
	sampler *Sampler
	seq     *seqStore
	spool   *ramSpool
	fspool  *fileSpool
	client  mqtt.Client
	owner   *connOwner // whose handlers paho's callbacks reach
	adopted bool       // the connection came from a predecessor (Adopt)
	next    *Config    // the successor's configuration (Replace)

	connGen   atomic.Uint64 // bumped on every (re)connection
	connCh    chan struct{}
	haWake    chan struct{}
	ha        haPace              // how often a broker user's "online" may wake haWake
	sampleReq chan chan *Document // SampleNow's requests to the sample loop
	published atomic.Uint64
	drain     drainStats // what the drain limit did (sendloop.go)
	running   atomic.Bool
	listenErr atomic.Pointer[error] // why the Prometheus listener does not serve

	errMu   sync.Mutex
	lastErr error

	subMu sync.Mutex
	subs  map[chan *Document]struct{}

	topics topicSubs // SubscribeTopic's subscriptions, renewed on each connection
}

// NewPublisher checks cfg and builds the publisher; it connects nothing
// until Run.
func NewPublisher(cfg Config) (*Publisher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("telemetry config: %w", err)
	}
	p := &Publisher{
		cfg:       cfg,
		log:       cfg.Logger,
		connCh:    make(chan struct{}, 1),
		haWake:    make(chan struct{}, 1),
		sampleReq: make(chan chan *Document),
		subs:      map[chan *Document]struct{}{},
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.log = p.log.With("component", "telemetry")
	src := cfg.Sources
	src.pub = p
	var err error
	if p.sampler, err = NewSampler(cfg.NodeID, cfg.Collectors, src); err != nil {
		return nil, err
	}
	if p.seq, err = openSeq(cfg.SeqPath); err != nil {
		return nil, err
	}
	if cfg.Spool == "file" {
		if p.fspool, err = openFileSpool(cfg.SpoolPath, cfg.SpoolMaxBytes, cfg.SpoolFlush, p.log); err != nil {
			return nil, err
		}
		p.spool = p.fspool.ramSpool
	} else {
		p.spool = newRAMSpool(cfg.SpoolMaxBytes)
	}
	tc, err := tlsConfig(&p.cfg)
	if err != nil {
		return nil, err
	}
	p.owner = &connOwner{}
	p.owner.p.Store(p)
	p.client = mqtt.NewClient(clientOptions(&p.cfg, tc, p.owner.handlers()))
	return p, nil
}

// Run samples and publishes until ctx ends, then publishes the retained
// "offline" status and disconnects (unless Replace said otherwise), saves the spool and the sequence number,
// and closes the collectors' files and sockets (Latest still works; Run
// cannot be called again). It returns an error only if it cannot start (the Prometheus
// listener's address is taken and Config.ListenRetry is zero); broker
// trouble is retried forever and shows in LastError.
func (p *Publisher) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("telemetry: publisher already running")
	}
	var wg sync.WaitGroup
	if p.cfg.PrometheusListen != "" {
		ln, err := net.Listen("tcp", p.cfg.PrometheusListen)
		if err != nil {
			err = fmt.Errorf("prometheus listener: %w", err)
			if p.cfg.ListenRetry <= 0 {
				return err
			}
		}
		wg.Add(1)
		go func() { defer wg.Done(); p.servePrometheus(ctx, ln, err) }()
	}
	if p.fspool != nil {
		wg.Add(1)
		go func() { defer wg.Done(); p.fspool.run(ctx) }()
	}
	if !p.adopted {
		p.client.Connect() // with ConnectRetry it keeps trying; progress comes through the handlers
	}
	sendDone := make(chan struct{})
	go func() { defer close(sendDone); p.sendLoop(ctx) }()
	p.sampleLoop(ctx)
	<-sendDone
	p.leave()
	wg.Wait()
	if p.fspool != nil { // again, now that the sender is done
		if err := p.fspool.flush(); err != nil {
			p.log.Error("spool flush", "err", err)
		}
	}
	if err := p.seq.close(); err != nil {
		p.log.Error("save seq", "err", err)
	}
	p.sampler.Close()
	return nil
}

// servePrometheus serves scrapes on ln until ctx ends. When ln is nil
// (err says why), it tries the address again every ListenRetry first.
func (p *Publisher) servePrometheus(ctx context.Context, ln net.Listener, err error) {
	if ln == nil {
		p.listenErr.Store(&err)
		p.log.Error("prometheus listener: not serving, trying again", "address", p.cfg.PrometheusListen, "err", err, "every", p.cfg.ListenRetry)
		if p.cfg.OnListener != nil {
			p.cfg.OnListener(err)
		}
		t := time.NewTicker(p.cfg.ListenRetry)
		for ln == nil {
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			ln, _ = net.Listen("tcp", p.cfg.PrometheusListen)
		}
		t.Stop()
		p.listenErr.Store(nil)
		p.log.Info("prometheus listener: serving", "address", p.cfg.PrometheusListen)
		if p.cfg.OnListener != nil {
			p.cfg.OnListener(nil)
		}
	}
	newMetricsServer(p.Latest).serve(ctx, ln)
}

// ListenerError tells why the Prometheus listener does not serve (its
// address taken, retried every Config.ListenRetry); nil when it serves or
// none is configured.
func (p *Publisher) ListenerError() error {
	if e := p.listenErr.Load(); e != nil {
		return *e
	}
	return nil
}

// Latest returns the last document, nil before the first sample.
func (p *Publisher) Latest() *Document { return p.sampler.Latest() }

// First returns the latest document; before the first sample it asks the
// running sample loop to take one now (of every group, published as any
// other) and waits for it until ctx ends.
func (p *Publisher) First(ctx context.Context) (*Document, error) {
	if d := p.Latest(); d != nil {
		return d, nil
	}
	r := make(chan *Document, 1)
	for req := p.sampleReq; ; req = nil {
		select {
		case req <- r:
		case d := <-r:
			return d, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("no sample taken yet: %w", ctx.Err())
		}
	}
}

// Subscribe returns a channel that receives each new document, and a
// function that ends the subscription. A slow reader misses intermediate
// documents, never the latest: the channel holds one and a newer one
// replaces it.
func (p *Publisher) Subscribe() (<-chan *Document, func()) {
	ch := make(chan *Document, 1)
	p.subMu.Lock()
	p.subs[ch] = struct{}{}
	p.subMu.Unlock()
	return ch, func() {
		p.subMu.Lock()
		delete(p.subs, ch)
		p.subMu.Unlock()
	}
}

func (p *Publisher) notifySubscribers(doc *Document) {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	for ch := range p.subs {
		for {
			select {
			case ch <- doc:
			default:
				select {
				case <-ch: // drop the older document
				default:
				}
				continue
			}
			break
		}
	}
}

// Connected reports whether the MQTT connection is up.
func (p *Publisher) Connected() bool { return p.client.IsConnectionOpen() }

// LastError returns the last connection error (nil once connected).
func (p *Publisher) LastError() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.lastErr
}

func (p *Publisher) setErr(err error) {
	p.errMu.Lock()
	p.lastErr = err
	p.errMu.Unlock()
}

func (p *Publisher) onConnect(mqtt.Client) {
	p.setErr(nil)
	p.connGen.Add(1)
	p.log.Info("mqtt connected", "broker", p.cfg.Broker)
	signal(p.connCh)
	p.resubscribe() // paho calls onConnect in a goroutine of its own
}

func (p *Publisher) onLost(_ mqtt.Client, err error) {
	p.setErr(fmt.Errorf("mqtt connection to %s lost: %w", p.cfg.Broker, err))
	p.log.Warn("mqtt connection lost", "broker", p.cfg.Broker, "err", err)
	signal(p.connCh)
}

func (p *Publisher) onNotify(_ mqtt.Client, n mqtt.ConnectionNotification) {
	switch n := n.(type) {
	case mqtt.ConnectionNotificationBrokerFailed:
		p.setErr(fmt.Errorf("mqtt connect to %s: %w", p.cfg.Broker, n.Reason))
		p.log.Debug("mqtt connect failed", "broker", p.cfg.Broker, "err", n.Reason)
	case mqtt.ConnectionNotificationFailed:
		if n.Reason != nil && p.LastError() == nil {
			p.setErr(fmt.Errorf("mqtt connect to %s: %w", p.cfg.Broker, n.Reason))
		}
	}
}

// signal does a non-blocking send on a wake-up channel of capacity one.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// stats implements publisherStats for the agent collector.
func (p *Publisher) stats() pubStats {
	n, b, d := p.spool.depth()
	return pubStats{spoolDepth: n, spoolBytes: b, published: p.published.Load(), dropped: d, connected: p.client.IsConnectionOpen()}
}

// sampleLoop collects each group at its interval after a random start
// delay; groups due together form one sample.
func (p *Publisher) sampleLoop(ctx context.Context) {
	groups := p.sampler.Groups()
	if len(groups) == 0 {
		for {
			select {
			case <-ctx.Done():
				return
			case r := <-p.sampleReq:
				r <- p.sample(ctx, time.Now(), groups)
			}
		}
	}
	shortest := p.cfg.interval(groups[0])
	for _, g := range groups {
		shortest = min(shortest, p.cfg.interval(g))
	}
	delay := p.cfg.StartDelay
	if delay == 0 {
		delay = shortest
	}
	if delay > 0 {
		delay = rand.N(delay)
	} else {
		delay = 0
	}
	start := time.Now().Add(delay)
	next := make(map[string]time.Time, len(groups))
	for _, g := range groups {
		next[g] = start
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-p.sampleReq:
			r <- p.sample(ctx, time.Now(), groups)
			continue
		case <-timer.C:
		}
		now := time.Now()
		var due []string
		earliest := time.Time{}
		for _, g := range groups {
			if !next[g].After(now.Add(5 * time.Millisecond)) {
				due = append(due, g)
				iv := p.cfg.interval(g)
				next[g] = next[g].Add(iv)
				if !next[g].After(now) { // a late wake-up skips missed ticks
					next[g] = now.Add(iv)
				}
			}
			if earliest.IsZero() || next[g].Before(earliest) {
				earliest = next[g]
			}
		}
		if len(due) > 0 {
			p.sample(ctx, now, due)
		}
		timer.Reset(time.Until(earliest))
	}
}

// sample takes one sample of groups and spools its messages.
func (p *Publisher) sample(ctx context.Context, now time.Time, groups []string) *Document {
	seq, err := p.seq.take()
	if err != nil {
		p.log.Error("seq", "err", err)
	}
	doc := p.sampler.Sample(ctx, now, seq, groups)
	ps := pointsIn(&p.points, doc, groups)
	var msgs []wireMessage
	if p.cfg.Format == FormatInflux {
		msgs = encodeInflux(doc.Node, doc.TS, doc.Seq, ps)
	} else {
		msgs = encodeJSON(doc.Node, doc.TS, doc.Seq, ps)
	}
	base := p.cfg.Prefix + "/" + p.cfg.NodeID + "/telemetry/"
	for _, m := range msgs {
		p.spool.push(message{Topic: base + m.topic, Payload: m.payload, QoS: byte(p.cfg.QoS)})
	}
	p.notifySubscribers(doc)
	return doc
}

// announce publishes the retained online status on a new connection, and
// the Home Assistant discovery configs when enabled.
func (p *Publisher) announce(ctx context.Context, gen uint64) bool {
	if !p.publish(ctx, gen, statusTopic(&p.cfg), 1, true, []byte("online")) {
		return false
	}
	if p.cfg.HADiscovery {
		t := p.client.Subscribe(p.cfg.HAPrefix+"/status", 0, p.onHAStatus)
		if !t.WaitTimeout(p.cfg.AckTimeout) || t.Error() != nil {
			p.log.Warn("subscribe to home assistant status", "err", t.Error())
		}
		return p.publishDiscovery(ctx, gen)
	}
	return true
}

// onHAStatus runs in paho's router: it only signals.
func (p *Publisher) onHAStatus(_ mqtt.Client, m mqtt.Message) {
	if string(m.Payload()) == "online" {
		p.ha.online(p.haWake, time.Now())
	}
}

// haMinInterval is the least time between two republications of the
// discovery configs that Home Assistant's "online" asks for.
const haMinInterval = 10 * time.Second

// haPace paces the discovery configs: anyone on the broker can publish
// "online" on Home Assistant's status topic, and each costs the node every
// discovery config again. The first wakes the send loop at once; the
// others within haMinInterval are folded into one wake-up at its end (so
// a real Home Assistant restart during a flood still gets its configs).
type haPace struct {
	mu      sync.Mutex
	last    time.Time
	pending bool
	wakes   int // how many wake-ups were signalled, for tests
}

func (h *haPace) online(wake chan struct{}, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if wait := h.last.Add(haMinInterval).Sub(now); wait > 0 {
		if !h.pending {
			h.pending = true
			time.AfterFunc(wait, func() {
				h.mu.Lock()
				h.pending, h.last = false, time.Now()
				h.wakes++
				h.mu.Unlock()
				signal(wake)
			})
		}
		return
	}
	h.last = now
	h.wakes++
	signal(wake)
}

// publish sends one message and waits for its acknowledgement (QoS 1) or
// its write (QoS 0). It gives up, returning false, when the connection it
// was sent on is gone, the ack does not come within AckTimeout, or ctx ends.
func (p *Publisher) publish(ctx context.Context, gen uint64, topic string, qos byte, retained bool, payload []byte) bool {
	t := p.client.Publish(topic, qos, retained, payload)
	deadline := time.Now().Add(p.cfg.AckTimeout)
	for {
		if t.WaitTimeout(100 * time.Millisecond) {
			if err := t.Error(); err != nil {
				p.log.Debug("publish failed", "topic", topic, "err", err)
				return false
			}
			return true
		}
		if ctx.Err() != nil || p.connGen.Load() != gen || !p.client.IsConnectionOpen() {
			return false
		}
		if time.Now().After(deadline) {
			p.log.Warn("no acknowledgement, sending again", "topic", topic, "timeout", p.cfg.AckTimeout)
			return false
		}
	}
}
