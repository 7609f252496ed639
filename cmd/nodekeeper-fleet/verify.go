package main

import (
	"context"
	"fmt"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/rollout"
	"github.com/nodekeeper/nodekeeper/wire"
)

// verifier checks what a snapshot reads (inventory.NewVerifier).
func verifier(trusted []wire.PublicKey, pinned map[string]wire.PublicKey) inventory.Verifier {
	return inventory.NewVerifier(trusted, pinned)
}

// enrolment reads --keys: the nodes' identity keys, one "NODE KEY" a line.
func (b *brokerFlags) enrolment() (map[string]wire.PublicKey, error) {
	out := map[string]wire.PublicKey{}
	if b.keysFile == "" {
		return out, nil
	}
	t, err := dir.ReadFile(b.keysFile)
	if err != nil {
		return nil, err
	}
	keys, err := wire.ParseEnrolment(t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.keysFile, err)
	}
	return keys, nil
}

// pins reads the rollout record and the enrolment list: the nodes'
// pinned keys, the list's first, then the record's if it verified with
// trusted. It returns the record too (nil if none) and, for a record that
// does not verify, why (its pins and refusals are then not used).
func (b *brokerFlags) pins(ctx context.Context, c *broker.Conn, trusted []wire.PublicKey) (map[string]wire.PublicKey, *rollout.Record, error, error) {
	enrolled, err := b.enrolment()
	if err != nil {
		return nil, nil, nil, err
	}
	pinned, rec, rerr := rollout.Pins(ctx, c, trusted, enrolled, b.quiet)
	return pinned, rec, rerr, nil
}
