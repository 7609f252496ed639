package inventory

import "github.com/nodekeeper/nodekeeper/wire"

// NewVerifier checks what a snapshot reads: desired envelopes against the
// admins' keys (none given: taken as they are, unverified), and state
// reports against the nodes' pinned keys (pinned: a node's report must
// verify with it; StateSigned says so).
func NewVerifier(trusted []wire.PublicKey, pinned map[string]wire.PublicKey) Verifier {
	v := Verifier{Pinned: pinned}
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
