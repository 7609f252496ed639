package telemetry

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// adminOptions are the MQTT options of the admin's tools (`nodekeeper
// push`, `nodekeeper watch`): a client of their own (clientID) with a clean
// session and no will, on c's broker, TLS and credentials. c.NodeID only
// satisfies Validate.
func adminOptions(c Config, clientID string) (*mqtt.ClientOptions, error) {
	if c.NodeID == "" {
		c.NodeID = "admin"
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("mqtt: %w", err)
	}
	tc, err := tlsConfig(&c)
	if err != nil {
		return nil, err
	}
	o := mqtt.NewClientOptions().
		AddBroker(c.Broker).
		SetClientID(clientID).
		SetProtocolVersion(4).
		SetKeepAlive(c.KeepAlive).
		SetConnectTimeout(10 * time.Second).
		SetWriteTimeout(10 * time.Second).
		SetCleanSession(true).
		SetStore(nullStore{}).
		SetCustomOpenConnectionFn(func(u *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
			return dialBroker(u, tc, o.ConnectTimeout)
		})
	if c.Username != "" {
		o.SetUsername(c.Username)
		o.SetPassword(c.Password)
	}
	return o, nil
}

// waitToken waits for t or ctx, whichever ends first.
func waitToken(ctx context.Context, t mqtt.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}
