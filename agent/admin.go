package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/nodekeeper/nodekeeper/telemetry"
)

// The admin's side of remote management: `nodekeeper keygen`, `sign` and
// `push` (docs/remote.md).

// WriteKeyPair makes a new key pair and writes PREFIX.sec (mode 0600) and
// PREFIX.pub in usign's formats. It never overwrites a file.
func WriteKeyPair(prefix string) (PublicKey, error) {
	k, err := GenerateKey()
	if err != nil {
		return PublicKey{}, err
	}
	write := func(path string, b []byte, mode os.FileMode) error {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if err != nil {
			return fmt.Errorf("keygen: %w", err)
		}
		_, err = f.Write(b)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return fmt.Errorf("keygen: %w", err)
		}
		return nil
	}
	if err := write(prefix+".sec", MarshalSecretKey(k), 0o600); err != nil {
		return PublicKey{}, err
	}
	if err := write(prefix+".pub", MarshalPublicKey(k.Public()), 0o644); err != nil {
		os.Remove(prefix + ".sec")
		return PublicKey{}, err
	}
	return k.Public(), nil
}

// ReadSecretKeyFile reads a usign secret key file.
func ReadSecretKeyFile(path string) (SecretKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return SecretKey{}, err
	}
	k, err := ParseSecretKey(b)
	if err != nil {
		return SecretKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// SealDocument checks that doc is a well-formed desired document and
// returns its signed envelope.
func SealDocument(k SecretKey, doc []byte) ([]byte, error) {
	var head struct {
		Node string `json:"node"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return nil, fmt.Errorf("desired document: %w", err)
	}
	if _, err := ParseDesired(doc, head.Node); err != nil {
		return nil, err
	}
	return Seal(k, doc)
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
	var env Envelope
	if err := json.Unmarshal(envelope, &env); err != nil || len(env.Document) == 0 || env.Signature == "" {
		return errors.New("push: not a signed envelope (sign the document with -k KEY or `nodekeeper sign`)")
	}
	if len(envelope) > MaxEnvelopeBytes {
		return fmt.Errorf("push: envelope of %d bytes exceeds the %d-byte limit nodes accept", len(envelope), MaxEnvelopeBytes)
	}
	if _, err := ParseDesired(env.Document, node); err != nil {
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
