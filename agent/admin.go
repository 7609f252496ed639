package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/nodekeeper/nodekeeper/telemetry"
	"github.com/nodekeeper/nodekeeper/wire"
)

// The admin's side of remote management: `nodekeeper keygen`, `sign` and
// `push` (docs/remote.md).

// SealDocument checks that doc is a well-formed desired document and
// returns its envelope signed by every key (threshold signing wants
// several).
func SealDocument(keys []wire.SecretKey, doc []byte) ([]byte, error) {
	var head struct {
		Node string `json:"node"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return nil, fmt.Errorf("desired document: %w", err)
	}
	if _, err := parseDesired(doc, head.Node); err != nil {
		return nil, err
	}
	return wire.SealAll(keys, doc)
}

// PushOptions say how `nodekeeper push` reaches the broker.
type PushOptions struct {
	Broker string // tcp://host:1883 or ssl://host:8883
	Prefix string // default "nodekeeper"
	// TLS and credentials, as in the telemetry section.
	CAFile, CertFile, KeyFile string
	Username, Password        string
}

// Push publishes a signed envelope, retained, on <prefix>/<node>/desired,
// after checking that its document is for node.
func Push(ctx context.Context, o PushOptions, node string, envelope []byte) error {
	if !validTopicLevel(node) {
		return fmt.Errorf("push: node %q: want 1 to %d bytes without '/', '+', '#', spaces or control characters", boundText(node, 64), maxNodeID)
	}
	env, err := wire.ParseEnvelope(envelope)
	if err != nil {
		return fmt.Errorf("push: not a signed envelope (sign the document with -k KEY or `nodekeeper sign`): %w", err)
	}
	if _, err := parseDesired(env.Document, node); err != nil {
		return fmt.Errorf("push: %w", err)
	}
	c := telemetry.DefaultConfig()
	c.Broker = o.Broker
	if o.Prefix != "" {
		c.Prefix = o.Prefix
	}
	c.CAFile, c.CertFile, c.KeyFile, c.Username, c.Password = o.CAFile, o.CertFile, o.KeyFile, o.Username, o.Password
	var id [4]byte
	rand.Read(id[:])
	return telemetry.PublishOnce(ctx, c, "nodekeeper-push-"+hex.EncodeToString(id[:]), c.Prefix+"/"+node+"/desired", envelope, true)
}
