//go:build nk_notls

package telemetry

import (
	"errors"
	"testing"
)

// TestNoTLS: a build without TLS refuses every TLS setting when the
// configuration is checked, naming the package that has TLS, and takes a
// plain broker as before. Run with `go test -tags nk_notls ./telemetry`.
func TestNoTLS(t *testing.T) {
	tests := []struct {
		name string
		set  func(*Config)
		err  bool
	}{
		{"tcp broker", func(c *Config) { c.Broker = "tcp://127.0.0.1:1883" }, false},
		{"mqtt broker", func(c *Config) { c.Broker = "mqtt://broker.lan" }, false},
		{"ssl broker", func(c *Config) { c.Broker = "ssl://broker.lan:8883" }, true},
		{"tls broker", func(c *Config) { c.Broker = "tls://broker.lan:8883" }, true},
		{"mqtts broker", func(c *Config) { c.Broker = "mqtts://broker.lan" }, true},
		{"CA file", func(c *Config) { c.CAFile = "/etc/ssl/ca.pem" }, true},
		{"client certificate", func(c *Config) { c.CertFile, c.KeyFile = "/etc/c.pem", "/etc/k.pem" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.NodeID = "n1"
			tt.set(&c)
			err := c.Validate()
			if tt.err != errors.Is(err, ErrNoTLS) {
				t.Fatalf("Validate: %v, want ErrNoTLS: %v", err, tt.err)
			}
			if !tt.err && err != nil {
				t.Fatal(err)
			}
			if _, perr := NewPublisher(c); tt.err && (perr == nil || !errors.Is(perr, ErrNoTLS)) {
				t.Errorf("NewPublisher: %v, want ErrNoTLS", perr)
			}
		})
	}
	if TLSSupported {
		t.Error("TLSSupported in a nk_notls build")
	}
}
