package telemetry

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// clientOptions builds paho's options. The spool, not paho's store, keeps
// unacknowledged messages, so paho gets a store that keeps nothing: after a
// reconnect the publisher sends the spool's head again itself, in order,
// instead of paho resending (and completing the old token early, see
// resume() in paho's client.go).
func clientOptions(c *Config, tc tlsSettings, h mqttHandlers) *mqtt.ClientOptions {
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
		SetCustomOpenConnectionFn(func(u *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
			return dialBroker(u, tc, o.ConnectTimeout)
		}).
		SetBinaryWill(statusTopic(c), []byte("offline"), 1, true).
		SetOnConnectHandler(h.onConnect).
		SetConnectionLostHandler(h.onLost).
		SetConnectionNotificationHandler(h.onNotify)
	maxMsg := c.MaxMessageBytes
	if maxMsg <= 0 {
		maxMsg = DefaultMaxMessageBytes
	}
	o.SetMaxIncomingPacketSize(maxMsg, func(_ mqtt.Client, topic string, size int) {
		if c.Oversized != nil {
			c.Oversized(topic, size)
		}
	})
	if c.Username != "" {
		o.SetUsername(c.Username)
		o.SetPassword(c.Password)
	}
	return o
}

// dialBroker opens the connection to the broker (TCP, or TLS for ssl://,
// tls:// and mqtts://) and buffers its reads: paho reads each packet's
// header byte by byte, which unbuffered costs three read syscalls per
// PUBACK.
func dialBroker(u *url.URL, tc tlsSettings, timeout time.Duration) (net.Conn, error) {
	host := u.Host
	secure := secureScheme(u.Scheme)
	if u.Port() == "" {
		if secure {
			host = net.JoinHostPort(u.Hostname(), "8883")
		} else {
			host = net.JoinHostPort(u.Hostname(), "1883")
		}
	}
	d := net.Dialer{Timeout: timeout}
	c, err := d.Dial("tcp", host)
	if err != nil {
		return nil, err
	}
	c = newRawConn(c)
	if secure {
		tc, err := startTLS(c, tc, u.Hostname(), timeout)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("tls handshake with %s: %w", host, err)
		}
		c = tc
	}
	return &bufferedConn{Conn: c, r: bufio.NewReaderSize(c, 4096)}, nil
}

// bufferedConn reads through a buffer.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

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
