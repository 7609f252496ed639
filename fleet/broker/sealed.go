package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nodekeeper/nodekeeper/wire"
)

// ErrTooLarge is wrapped by PublishSealed's refusal of a record larger than
// the fleet reads back.
var ErrTooLarge = errors.New("larger than the fleet reads back")

// PublishSealed signs v's JSON with k (a wire envelope) and publishes it
// retained on topic: the fleet's own records (a rollout, the aggregation
// policies' memory) are state kept on the broker, continued by whichever
// admin's process runs next. what names the record in errors; an envelope
// larger than the fleet reads back (MaxMessageBytes) is refused unsent.
func (c *Conn) PublishSealed(ctx context.Context, topic string, k wire.SecretKey, v any, what string) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	env, err := wire.Seal(k, b)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if len(env) > MaxMessageBytes {
		return fmt.Errorf("%s of %d bytes: %w (%d bytes)", what, len(env), ErrTooLarge, MaxMessageBytes)
	}
	if err := c.Publish(ctx, topic, env, true); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
