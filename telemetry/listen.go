package telemetry

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Listen connects to the broker c names as a client of its own (clientID),
// subscribes to filter at QoS 1 and hands every message, retained ones
// first, to h until ctx ends. A lost connection is made again and the
// subscription renewed, so a watcher outlives a broker restart; the first
// connection must succeed. It is for the admin's tools (`nodekeeper
// watch`); c.NodeID is not used.
func Listen(ctx context.Context, c Config, clientID, filter string, h MessageHandler) error {
	if c.NodeID == "" {
		c.NodeID = "watch"
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	tc, err := tlsConfig(&c)
	if err != nil {
		return err
	}
	subErr := make(chan error, 1)
	o := mqtt.NewClientOptions().
		AddBroker(c.Broker).
		SetClientID(clientID).
		SetProtocolVersion(4).
		SetKeepAlive(c.KeepAlive).
		SetConnectTimeout(10 * time.Second).
		SetWriteTimeout(10 * time.Second).
		SetCleanSession(true).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(5 * time.Second).
		SetStore(nullStore{}).
		SetOrderMatters(true).
		SetCustomOpenConnectionFn(func(u *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
			return dialBroker(u, tc, o.ConnectTimeout)
		}).
		SetOnConnectHandler(func(cl mqtt.Client) {
			// On paho's goroutine: subscribe without waiting here.
			t := cl.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) { h(m.Topic(), m.Payload()) })
			go func() {
				<-t.Done()
				select {
				case subErr <- t.Error():
				default:
				}
			}()
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
	select {
	case err := <-subErr:
		if err != nil {
			return fmt.Errorf("mqtt subscribe %s: %w", filter, err)
		}
	case <-ctx.Done():
		return nil
	}
	<-ctx.Done()
	return nil
}
