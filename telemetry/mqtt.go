package telemetry

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// tlsConfig builds the TLS settings from the CA and client certificate
// files; nil when the broker URL is not a TLS one and no file is given.
func tlsConfig(c *Config) (*tls.Config, error) {
	u, _ := url.Parse(c.Broker)
	secure := u != nil && (u.Scheme == "ssl" || u.Scheme == "tls" || u.Scheme == "mqtts" || u.Scheme == "wss")
	if !secure && c.CAFile == "" && c.CertFile == "" {
		return nil, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if u != nil {
		t.ServerName = u.Hostname()
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca file %s: no PEM certificate in it", c.CAFile)
		}
		t.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls client certificate %s / key %s: %w", c.CertFile, c.KeyFile, err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

// clientOptions builds paho's options. The spool, not paho's store, keeps
// unacknowledged messages, so paho gets a store that keeps nothing: after a
// reconnect the publisher sends the spool's head again itself, in order,
// instead of paho resending (and completing the old token early, see
// resume() in paho's client.go).
func clientOptions(c *Config, tc *tls.Config, h mqttHandlers) *mqtt.ClientOptions {
	o := mqtt.NewClientOptions().
		AddBroker(c.Broker).
		SetClientID("nodekeeper-"+c.NodeID).
		SetProtocolVersion(4). // MQTT 3.1.1
		SetKeepAlive(c.KeepAlive).
		SetPingTimeout(max(c.KeepAlive/2, time.Second)).
		SetConnectTimeout(10*time.Second).
		SetWriteTimeout(10*time.Second).
		SetCleanSession(c.CleanSession).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(min(c.ReconnectMax, 5*time.Second)).
		SetMaxReconnectInterval(c.ReconnectMax).
		SetOrderMatters(false).
		SetStore(nullStore{}).
		SetBinaryWill(statusTopic(c), []byte("offline"), 1, true).
		SetOnConnectHandler(h.onConnect).
		SetConnectionLostHandler(h.onLost).
		SetConnectionNotificationHandler(h.onNotify)
	if c.Username != "" {
		o.SetUsername(c.Username)
		o.SetPassword(c.Password)
	}
	if tc != nil {
		o.SetTLSConfig(tc)
	}
	return o
}

// mqttHandlers are paho's callbacks; they only record and signal, never
// block.
type mqttHandlers struct {
	onConnect mqtt.OnConnectHandler
	onLost    mqtt.ConnectionLostHandler
	onNotify  mqtt.ConnectionNotificationHandler
}

// nullStore is a paho Store that keeps nothing.
type nullStore struct{}

func (nullStore) Open()                             {}
func (nullStore) Put(string, packets.ControlPacket) {}
func (nullStore) Get(string) packets.ControlPacket  { return nil }
func (nullStore) All() []string                     { return nil }
func (nullStore) Del(string)                        {}
func (nullStore) Close()                            {}
func (nullStore) Reset()                            {}

func statusTopic(c *Config) string { return c.Prefix + "/" + c.NodeID + "/status" }
