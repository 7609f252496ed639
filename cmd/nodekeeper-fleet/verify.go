package main

import (
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/wire"
)

// verifier checks what a snapshot reads: desired envelopes against the
// admins' keys (none given: taken as they are, unverified).
// TODO(wire): state reports signed by each node's own key are verified
// here once the wire package signs them; until then seqs come from
// unsigned reports and the rollout record says so per node.
func verifier(trusted []wire.PublicKey) inventory.Verifier {
	var v inventory.Verifier
	if len(trusted) > 0 {
		v.Desired = func(payload []byte) ([]byte, string, error) {
			doc, k, err := wire.Open(trusted, payload)
			if err != nil {
				return nil, "", err
			}
			return doc, k.ID(), nil
		}
	}
	return v
}
