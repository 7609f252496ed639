package telemetry

import (
	"context"
	"fmt"
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
	o, err := adminOptions(c, clientID)
	if err != nil {
		return err
	}
	subErr := make(chan error, 1)
	o.SetAutoReconnect(true).
		SetMaxReconnectInterval(5 * time.Second).
		SetOrderMatters(true).
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
	cl := mqtt.NewClient(o)
	if err := waitToken(ctx, cl.Connect()); err != nil {
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
