package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// MaxEnvelopeBytes bounds a signed desired document on the wire; anything
// larger is refused before it is parsed.
const MaxEnvelopeBytes = 1 << 20

// Envelope is what travels on <prefix>/<node>/desired: the document's exact
// bytes and a usign signature of them. Keeping the signed bytes verbatim
// (rather than re-encoding JSON) means `usign -V` checks the same bytes the
// node does.
type Envelope struct {
	Document  []byte `json:"document"`  // base64 in JSON
	Signature string `json:"signature"` // a usign signature file
}

// Seal signs document with k and returns the envelope's JSON.
func Seal(k SecretKey, document []byte) ([]byte, error) {
	if !json.Valid(document) {
		return nil, errors.New("document is not valid JSON")
	}
	return json.Marshal(Envelope{Document: document, Signature: string(Sign(k, document))})
}

// Open checks an envelope: its size, its signature by one of the trusted
// keys, and returns the signed document bytes and the key that signed them.
func Open(trusted []PublicKey, msg []byte) ([]byte, PublicKey, error) {
	if len(msg) > MaxEnvelopeBytes {
		return nil, PublicKey{}, fmt.Errorf("desired document of %d bytes exceeds the %d-byte limit", len(msg), MaxEnvelopeBytes)
	}
	var env Envelope
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return nil, PublicKey{}, fmt.Errorf("desired envelope: %w", err)
	}
	if len(env.Document) == 0 || env.Signature == "" {
		return nil, PublicKey{}, errors.New("desired envelope: document or signature missing (unsigned documents are refused)")
	}
	k, err := Verify(trusted, env.Document, []byte(env.Signature))
	if err != nil {
		return nil, PublicKey{}, fmt.Errorf("desired envelope: %w", err)
	}
	return env.Document, k, nil
}
