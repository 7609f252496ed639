package telemetry

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"
)

// Config is the publisher's configuration; its fields mirror the agent's
// UCI section (see docs/telemetry.md). Start from DefaultConfig.
type Config struct {
	// Broker is the MQTT broker URL: tcp://host:1883 or ssl://host:8883
	// (also mqtt://, and tls:// or mqtts:// for TLS).
	Broker string
	// NodeID names the node in topics and documents; the MQTT client id is
	// "nodekeeper-" + NodeID.
	NodeID string
	// Prefix is the first topic level (default "nodekeeper").
	Prefix string
	// QoS of telemetry and events: 0 or 1 (default 1).
	QoS int
	// TLS: a CA file to verify the broker (empty: the system roots), and a
	// client certificate and key for brokers that require one.
	CAFile, CertFile, KeyFile string
	// Username and Password, if the broker wants them.
	Username, Password string
	// KeepAlive is the MQTT keepalive (default 30s; mosquitto 2 refuses 0).
	KeepAlive time.Duration
	// CleanSession asks for a clean session; false (default) keeps a
	// persistent one.
	CleanSession bool
	// Interval is the sampling interval of every group (default 30s,
	// at least 100ms); Intervals overrides it per group.
	Interval  time.Duration
	Intervals map[string]time.Duration
	// Collectors switches collectors on or off by name; unnamed ones keep
	// their default (see Groups).
	Collectors map[string]bool
	// StartDelay is the longest random delay before the first sample, so a
	// network's nodes do not all report at once after a power cut. Zero
	// means the shortest interval; negative means none.
	StartDelay time.Duration
	// Spool is "ram" (default) or "file". SpoolPath is the file of the file
	// spool; SpoolMaxBytes caps the backlog (default 1 MiB), the oldest
	// messages going first; SpoolFlush is how often at most the file is
	// rewritten (default 5m).
	Spool         string
	SpoolPath     string
	SpoolMaxBytes int64
	SpoolFlush    time.Duration
	// SeqPath keeps the sample number across restarts ("" keeps it in
	// memory only).
	SeqPath string
	// Format of telemetry payloads: "json" (default) or "influx".
	Format string
	// HADiscovery publishes Home Assistant discovery configs under
	// HAPrefix (default "homeassistant"); needs the json format.
	HADiscovery bool
	HAPrefix    string
	// PrometheusListen, if set (e.g. "127.0.0.1:9100"), serves the latest
	// document as Prometheus text on /metrics.
	PrometheusListen string
	// ListenRetry, when above zero, keeps Run going when PrometheusListen
	// cannot be bound (its address taken, say by another exporter):
	// MQTT publishing goes on, ListenerError says why, and the address is
	// tried again every ListenRetry until it binds. OnListener, if set, is
	// told the first failure of each streak and, with nil, the bind that
	// ends it. Zero: Run fails at once (`nodekeeper telemetry publish`).
	ListenRetry time.Duration
	OnListener  func(error)
	// DrainRate is how many messages per second of a backlog (what was
	// waiting in the spool when the connection came up) at most are sent
	// (default 20); DrainBurst how many may go at once (default 100, more
	// than one sample's messages). Live samples are never held back by it.
	DrainRate  float64
	DrainBurst int
	// AckTimeout is how long to wait for a PUBACK before sending again on
	// the same connection (default 30s).
	AckTimeout time.Duration
	// ReconnectMax caps the wait between reconnection attempts (default 60s).
	ReconnectMax time.Duration
	// Sources are what the collectors read (the agent supplies slivers and
	// policy counts).
	Sources Sources
	// Logger receives the publisher's logs (default slog.Default()).
	Logger *slog.Logger
	// MaxMessageBytes bounds an MQTT packet the connection reads into
	// memory (0: DefaultMaxMessageBytes). A message above it is read
	// through in small chunks and dropped, never held, and Oversized (if
	// set) is told its topic and size; the connection stays up.
	MaxMessageBytes int
	Oversized       func(topic string, size int)
}

// DefaultMaxMessageBytes is the default of Config.MaxMessageBytes.
const DefaultMaxMessageBytes = 2 << 20

// DefaultConfig returns the defaults of every field.
func DefaultConfig() Config {
	return Config{
		Broker:        "tcp://127.0.0.1:1883",
		Prefix:        "nodekeeper",
		QoS:           1,
		KeepAlive:     30 * time.Second,
		Interval:      30 * time.Second,
		Spool:         "ram",
		SpoolMaxBytes: 1 << 20,
		SpoolFlush:    5 * time.Minute,
		Format:        FormatJSON,
		HAPrefix:      "homeassistant",
		DrainRate:     20,
		DrainBurst:    100,
		AckTimeout:    30 * time.Second,
		ReconnectMax:  60 * time.Second,
	}
}

// ErrNoTLS is wrapped by Validate's error for TLS settings (an ssl://,
// tls:// or mqtts:// broker, a CA, client certificate or key file) in a
// build without TLS (TLSSupported is false).
var ErrNoTLS = errors.New("this build has no TLS support; install nodekeeper-ssl")

// secureScheme tells the broker URL schemes that mean TLS.
func secureScheme(s string) bool { return s == "ssl" || s == "tls" || s == "mqtts" }

// MinInterval is the shortest sampling interval accepted (for tests).
const MinInterval = 100 * time.Millisecond

// topicLevel tells one MQTT topic level of 1 to 128 printable bytes
// without space, "/", "+" or "#" (regexp would cost the binary 0.26 MB,
// docs/packaging.md).
func topicLevel(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		// No wildcard, no level separator, nothing that is not one
		// printable word (topics reach logs and terminals).
		if c := s[i]; c <= ' ' || c == 0x7f || c == '/' || c == '+' || c == '#' {
			return false
		}
	}
	return true
}

// Validate checks the configuration and names the first bad field.
func (c *Config) Validate() error {
	u, err := url.Parse(c.Broker)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL: it may hold a password
		}
		return fmt.Errorf("broker: not a URL: %w", err)
	}
	if u.User != nil {
		// Error reports quote the broker URL, and they are published.
		return errors.New("broker: no credentials in the URL: use username and password_file")
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts":
	default:
		return fmt.Errorf("broker %q: scheme %q is not tcp, mqtt, ssl, tls or mqtts", c.Broker, u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("broker %q: no host", c.Broker)
	}
	if !topicLevel(c.NodeID) {
		return fmt.Errorf("node id %q: must be 1 to 128 bytes without '/', '+', '#', spaces or control characters", c.NodeID)
	}
	if !topicLevel(c.Prefix) {
		return fmt.Errorf("prefix %q: must be 1 to 128 bytes without '/', '+', '#', spaces or control characters", c.Prefix)
	}
	if c.QoS != 0 && c.QoS != 1 {
		return fmt.Errorf("qos %d: must be 0 or 1", c.QoS)
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return errors.New("tls: a client certificate needs both cert and key files")
	}
	if !TLSSupported {
		switch {
		case secureScheme(u.Scheme):
			return fmt.Errorf("broker %q: %w", c.Broker, ErrNoTLS)
		case c.CAFile != "" || c.CertFile != "" || c.KeyFile != "":
			return fmt.Errorf("tls ca, cert or key file: %w", ErrNoTLS)
		}
	}
	if c.KeepAlive < time.Second {
		return fmt.Errorf("keepalive %v: must be at least 1s", c.KeepAlive)
	}
	if c.Interval < MinInterval {
		return fmt.Errorf("interval %v: must be at least %v", c.Interval, MinInterval)
	}
	for g, d := range c.Intervals {
		if _, ok := factories[g]; !ok {
			return fmt.Errorf("interval for unknown group %q (have %v)", g, groupNames())
		}
		if d < MinInterval {
			return fmt.Errorf("interval of %s %v: must be at least %v", g, d, MinInterval)
		}
	}
	for g := range c.Collectors {
		if _, ok := factories[g]; !ok {
			return fmt.Errorf("unknown collector %q (have %v)", g, groupNames())
		}
	}
	switch c.Spool {
	case "ram":
	case "file":
		if c.SpoolPath == "" {
			return errors.New("spool file: no spool path")
		}
		if c.SpoolFlush < time.Second {
			return fmt.Errorf("spool flush %v: must be at least 1s", c.SpoolFlush)
		}
	default:
		return fmt.Errorf("spool %q: must be ram or file", c.Spool)
	}
	if c.SpoolMaxBytes < 4096 {
		return fmt.Errorf("spool max bytes %d: must be at least 4096", c.SpoolMaxBytes)
	}
	switch c.Format {
	case FormatJSON, FormatInflux:
	default:
		return fmt.Errorf("format %q: must be json or influx", c.Format)
	}
	if c.HADiscovery && c.Format != FormatJSON {
		return errors.New("home assistant discovery needs the json format")
	}
	if c.HADiscovery && !topicLevel(c.HAPrefix) {
		return fmt.Errorf("home assistant prefix %q: must be one topic level", c.HAPrefix)
	}
	if !(c.DrainRate > 0 && c.DrainRate <= 1e6) || c.DrainBurst < 1 { // NaN fails both
		return fmt.Errorf("drain rate %v burst %d: must be positive (rate at most 1e6)", c.DrainRate, c.DrainBurst)
	}
	if c.AckTimeout < 100*time.Millisecond {
		return fmt.Errorf("ack timeout %v: must be at least 100ms", c.AckTimeout)
	}
	if c.ReconnectMax < 100*time.Millisecond {
		return fmt.Errorf("reconnect max %v: must be at least 100ms", c.ReconnectMax)
	}
	if c.ListenRetry != 0 && c.ListenRetry < 100*time.Millisecond {
		return fmt.Errorf("listen retry %v: must be 0 or at least 100ms", c.ListenRetry)
	}
	return nil
}

// interval returns the sampling interval of group g.
func (c *Config) interval(g string) time.Duration {
	if d, ok := c.Intervals[g]; ok {
		return d
	}
	return c.Interval
}
