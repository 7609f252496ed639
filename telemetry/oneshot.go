package telemetry

import (
	"context"
	"fmt"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// PublishOnce connects to the broker c names as a client of its own
// (clientID), publishes one message at QoS 1, waits for its
// acknowledgement and disconnects: no will, a clean session. It is for the
// admin's tools (`nodekeeper push`); c.NodeID is not used.
func PublishOnce(ctx context.Context, c Config, clientID, topic string, payload []byte, retained bool) error {
	o, err := adminOptions(c, clientID)
	if err != nil {
		return err
	}
	cl := mqtt.NewClient(o.SetAutoReconnect(false))
	if err := waitToken(ctx, cl.Connect()); err != nil {
		return fmt.Errorf("mqtt connect to %s: %w", c.Broker, err)
	}
	defer cl.Disconnect(250)
	if err := waitToken(ctx, cl.Publish(topic, 1, retained, payload)); err != nil {
		return fmt.Errorf("mqtt publish %s: %w", topic, err)
	}
	return nil
}
