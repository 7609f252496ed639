package rollout

import (
	"context"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/wire"
)

// Pins reads the rollout record and returns the nodes' pinned keys: those
// of enrolled (an enrolment list) first, then those of the record if it
// verified with trusted. It returns the record too (nil if none) and, for
// a record that does not verify, why (its pins and refusals are then not
// used).
func Pins(ctx context.Context, c *broker.Conn, trusted []wire.PublicKey, enrolled map[string]wire.PublicKey, quiet time.Duration) (pinned map[string]wire.PublicKey, rec *Record, recErr error) {
	rec, recErr = Read(ctx, c, trusted, quiet)
	pinned = map[string]wire.PublicKey{}
	if recErr == nil && rec != nil {
		pinned = rec.Pinned()
	}
	for id, k := range enrolled {
		pinned[id] = k
	}
	return pinned, rec, recErr
}
