// Package broker is the fleet tool's connection to the MQTT broker, the
// fleet's only state: it publishes retained documents at QoS 1, follows
// topics, and reads the retained state of the whole fleet as a snapshot.
package broker

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Options say how to reach the broker and which topics are the nodes'.
type Options struct {
	URL    string // tcp://host:1883, ssl://host:8883
	Prefix string // the nodes' topic prefix (default "nodekeeper")
	// TLS and credentials, as the agent's telemetry section has them.
	CAFile, CertFile, KeyFile string
	Username, Password        string
	// ClientID defaults to "nodekeeper-fleet-" and random hex.
	ClientID string
	// Share, when set, is the shared-subscription group (ValidShareGroup)
	// of this process: SubscribeStream follows its filters as
	// $share/<Share>/<filter>, so the broker hands each streamed message
	// to one process of the group (ingestion split over several fleet
	// processes). Retained topics are never read through it: Retained and
	// Subscribe always see every message.
	Share string
}

// MaxMessageBytes bounds a message the fleet reads: anyone who can publish
// can retain a message on a node's topic, and a bigger one is read
// through and dropped unheld. Node messages are far below it (a desired
// envelope is at most 1 MiB); the rollout record is the largest, about
// 250 bytes a node.
const MaxMessageBytes = 16 << 20

// Conn is one connection to the broker: a clean session, no will.
type Conn struct {
	c      mqtt.Client
	prefix string
	share  string
	mu     sync.Mutex
	subs   map[string]func(topic string, payload []byte)
}

// ValidTopicLevel reports whether s may be one topic level: not empty, no
// '/', '+', '#' or NUL.
func ValidTopicLevel(s string) bool { return s != "" && !strings.ContainsAny(s, "/+#\x00") }

// Dial connects to the broker.
func Dial(ctx context.Context, o Options) (*Conn, error) {
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("broker %q: want tcp://HOST:PORT or ssl://HOST:PORT", o.URL)
	}
	tlsOn := false
	switch u.Scheme {
	case "tcp", "mqtt":
	case "ssl", "tls", "mqtts":
		tlsOn = true
	default:
		return nil, fmt.Errorf("broker %q: scheme %q is not tcp, mqtt, ssl, tls or mqtts", o.URL, u.Scheme)
	}
	if o.Prefix == "" {
		o.Prefix = "nodekeeper"
	}
	if !ValidTopicLevel(o.Prefix) {
		return nil, fmt.Errorf("prefix %q: one topic level, without '/', '+', '#'", o.Prefix)
	}
	if o.Share != "" && !ValidShareGroup(o.Share) {
		return nil, fmt.Errorf("share group %q: want 1-64 letters, digits, '-', '_', '.'", o.Share)
	}
	if o.ClientID == "" {
		var b [6]byte
		rand.Read(b[:])
		o.ClientID = "nodekeeper-fleet-" + hex.EncodeToString(b[:])
	}
	mo := mqtt.NewClientOptions().AddBroker(o.URL).SetClientID(o.ClientID).SetProtocolVersion(4).
		SetCleanSession(true).SetKeepAlive(30*time.Second).SetConnectTimeout(15*time.Second).
		SetWriteTimeout(15*time.Second).SetAutoReconnect(true).SetMaxReconnectInterval(5*time.Second).
		SetOrderMatters(false).
		SetMaxIncomingPacketSize(MaxMessageBytes, nil)
	if o.Username != "" {
		mo.SetUsername(o.Username)
		mo.SetPassword(o.Password)
	}
	if tlsOn || o.CAFile != "" || o.CertFile != "" {
		tc, err := tlsConfig(o)
		if err != nil {
			return nil, err
		}
		mo.SetTLSConfig(tc)
	}
	c := &Conn{prefix: o.Prefix, share: o.Share, subs: map[string]func(string, []byte){}}
	// Subscriptions are made again after a reconnection (clean session).
	mo.SetOnConnectHandler(func(cl mqtt.Client) {
		c.mu.Lock()
		defer c.mu.Unlock()
		for f, h := range c.subs {
			cl.Subscribe(f, 1, handler(h))
		}
	})
	c.c = mqtt.NewClient(mo)
	if err := wait(ctx, c.c.Connect()); err != nil {
		return nil, fmt.Errorf("mqtt connect to %s: %w", o.URL, err)
	}
	return c, nil
}

func tlsConfig(o Options) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate", o.CAFile)
		}
		tc.RootCAs = pool
	}
	if o.CertFile != "" || o.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func handler(h func(string, []byte)) mqtt.MessageHandler {
	return func(_ mqtt.Client, m mqtt.Message) { h(m.Topic(), m.Payload()) }
}

func wait(ctx context.Context, t mqtt.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Prefix is the nodes' topic prefix.
func (c *Conn) Prefix() string { return c.prefix }

// NodeTopic returns <prefix>/<node>/<leaf>.
func (c *Conn) NodeTopic(node, leaf string) string { return c.prefix + "/" + node + "/" + leaf }

// Publish publishes at QoS 1 and waits for the broker's acknowledgement.
func (c *Conn) Publish(ctx context.Context, topic string, payload []byte, retained bool) error {
	if err := wait(ctx, c.c.Publish(topic, 1, retained, payload)); err != nil {
		return fmt.Errorf("mqtt publish %s: %w", topic, err)
	}
	return nil
}

// Subscribe follows filter at QoS 1 (again after every reconnection); h
// runs on the client's goroutines: it must copy what it keeps and return
// quickly.
func (c *Conn) Subscribe(ctx context.Context, filter string, h func(topic string, payload []byte)) error {
	c.mu.Lock()
	c.subs[filter] = h
	c.mu.Unlock()
	if err := wait(ctx, c.c.Subscribe(filter, 1, handler(h))); err != nil {
		return fmt.Errorf("mqtt subscribe %s: %w", filter, err)
	}
	return nil
}

// Share is the shared-subscription group, "" for none.
func (c *Conn) Share() string { return c.share }

// StreamFilter is the filter SubscribeStream subscribes for filter:
// $share/<group>/<filter> with a share group, filter without.
func (c *Conn) StreamFilter(filter string) string {
	if c.share == "" {
		return filter
	}
	return "$share/" + c.share + "/" + filter
}

// SubscribeStream follows a stream of non-retained messages (the nodes'
// telemetry documents) as Subscribe does; with a share group (Options.Share)
// through the shared subscription $share/<group>/<filter>, so each message
// goes to one process of the group and the processes split the stream
// between them. The topic h receives is the message's own, without
// $share/<group>/. Never use it for retained topics (status, state, info,
// desired, the rollout record): a shared subscription gets a live message
// on one process only, and on subscribing gets the retained ones on some
// brokers (mosquitto 2.0) and none on others (MQTT 5's rule: EMQX,
// VerneMQ, HiveMQ), so every process reads those whole with Subscribe or
// Retained.
func (c *Conn) SubscribeStream(ctx context.Context, filter string, h func(topic string, payload []byte)) error {
	return c.Subscribe(ctx, c.StreamFilter(filter), h)
}

// ValidShareGroup reports whether s may name a shared-subscription group:
// 1-64 letters, digits, '-', '_' or '.' (one topic level, and a name the
// brokers all take).
func ValidShareGroup(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// Close disconnects.
func (c *Conn) Close() { c.c.Disconnect(250) }

// Retained collects the retained messages of filters: it subscribes and
// gathers what arrives until no retained message came for quiet (the
// broker sends the retained messages at once, so a quiet spell means it
// has sent them all), or ctx ends. Live messages that arrive meanwhile
// are taken too (they are newer) but do not hold the snapshot open, so a
// busy fleet still gets one. A message with an empty payload (a cleared
// topic) removes its topic.
func (c *Conn) Retained(ctx context.Context, filters []string, quiet time.Duration) (map[string][]byte, error) {
	var mu sync.Mutex
	got := map[string][]byte{}
	kick := make(chan struct{}, 1)
	h := func(_ mqtt.Client, m mqtt.Message) {
		mu.Lock()
		if len(m.Payload()) == 0 {
			delete(got, m.Topic())
		} else {
			got[m.Topic()] = append([]byte(nil), m.Payload()...)
		}
		mu.Unlock()
		if !m.Retained() {
			return
		}
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	m := map[string]byte{}
	for _, f := range filters {
		m[f] = 1
	}
	tok := c.c.SubscribeMultiple(m, h)
	if err := wait(ctx, tok); err != nil {
		return nil, fmt.Errorf("mqtt subscribe %v: %w", filters, err)
	}
	defer func() { c.c.Unsubscribe(filters...).WaitTimeout(5 * time.Second) }()
	t := time.NewTimer(quiet)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-kick:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
			t.Reset(quiet)
		case <-t.C:
			mu.Lock()
			defer mu.Unlock()
			out := make(map[string][]byte, len(got))
			for k, v := range got {
				out[k] = v
			}
			return out, nil
		}
	}
}
