package telemetry

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// PublishOnce connects to the broker c names as a client of its own
// (clientID), publishes one message at QoS 1, waits for its
// acknowledgement and disconnects: no will, a clean session. It is for the
// admin's tools (`nodekeeper push`); c.NodeID is not used.
func PublishOnce(ctx context.Context, c Config, clientID, topic string, payload []byte, retained bool) error {
	if c.NodeID == "" {
		c.NodeID = "push"
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	tc, err := tlsConfig(&c)
	if err != nil {
		return err
	}
	o := mqtt.NewClientOptions().
		AddBroker(c.Broker).
		SetClientID(clientID).
		SetProtocolVersion(4).
		SetKeepAlive(c.KeepAlive).
		SetConnectTimeout(10 * time.Second).
		SetWriteTimeout(10 * time.Second).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetStore(nullStore{}).
		SetCustomOpenConnectionFn(func(u *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
			return dialBroker(u, tc, o.ConnectTimeout)
		})
	if c.Username != "" {
		o.SetUsername(c.Username)
		o.SetPassword(c.Password)
	}
	cl := mqtt.NewClient(o)
	wait := func(t mqtt.Token) error {
		select {
		case <-t.Done():
			return t.Error()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := wait(cl.Connect()); err != nil {
		return fmt.Errorf("mqtt connect to %s: %w", c.Broker, err)
	}
	defer cl.Disconnect(250)
	if err := wait(cl.Publish(topic, 1, retained, payload)); err != nil {
		return fmt.Errorf("mqtt publish %s: %w", topic, err)
	}
	return nil
}
