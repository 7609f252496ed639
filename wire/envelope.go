package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// MaxEnvelopeBytes bounds a signed desired document on the wire; anything
// larger is refused before it is parsed.
const MaxEnvelopeBytes = 1 << 20

// MaxSignatures bounds the signatures of one envelope.
const MaxSignatures = 16

// Envelope is what travels on <prefix>/<node>/desired: the document's exact
// bytes and usign signatures of them. Keeping the signed bytes verbatim
// (rather than re-encoding JSON) means `usign -V` checks the same bytes the
// node does. One signer uses Signature; several (threshold signing, see
// OpenThreshold) use Signatures; an envelope may carry both, and every
// signature counts.
type Envelope struct {
	Document   []byte   `json:"document"`             // base64 in JSON
	Signature  string   `json:"signature,omitempty"`  // a usign signature file
	Signatures []string `json:"signatures,omitempty"` // more usign signature files
}

// all returns every signature of the envelope.
func (e *Envelope) all() []string {
	var out []string
	if e.Signature != "" {
		out = append(out, e.Signature)
	}
	return append(out, e.Signatures...)
}

// Seal signs document with k and returns the envelope's JSON.
func Seal(k SecretKey, document []byte) ([]byte, error) {
	return SealAll([]SecretKey{k}, document)
}

// SealAll signs document with every key: one key gives the single
// "signature", several the list "signatures".
func SealAll(keys []SecretKey, document []byte) ([]byte, error) {
	if !json.Valid(document) {
		return nil, errors.New("document is not valid JSON")
	}
	if len(keys) == 0 || len(keys) > MaxSignatures {
		return nil, fmt.Errorf("want 1 to %d signing keys, got %d", MaxSignatures, len(keys))
	}
	env := Envelope{Document: document}
	if len(keys) == 1 {
		env.Signature = string(Sign(keys[0], document))
	} else {
		for _, k := range keys {
			env.Signatures = append(env.Signatures, string(Sign(k, document)))
		}
	}
	return json.Marshal(env)
}

// ParseEnvelope reads an envelope strictly, without checking signatures.
func ParseEnvelope(msg []byte) (*Envelope, error) {
	if len(msg) > MaxEnvelopeBytes {
		return nil, fmt.Errorf("desired document of %d bytes exceeds the %d-byte limit", len(msg), MaxEnvelopeBytes)
	}
	var env Envelope
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("desired envelope: %w", err)
	}
	if dec.More() {
		return nil, errors.New("desired envelope: trailing data after the JSON object")
	}
	if len(env.Document) == 0 || len(env.all()) == 0 {
		return nil, errors.New("desired envelope: document or signature missing (unsigned documents are refused)")
	}
	if len(env.all()) > MaxSignatures {
		return nil, fmt.Errorf("desired envelope: %d signatures, at most %d", len(env.all()), MaxSignatures)
	}
	return &env, nil
}

// AddSignature signs an envelope's document with k too and returns the
// envelope with one more signature (all in "signatures"). The envelope's
// signatures are not checked here (the node checks them); one already
// made by k's fingerprint is an error.
func AddSignature(k SecretKey, msg []byte) ([]byte, error) {
	env, err := ParseEnvelope(msg)
	if err != nil {
		return nil, err
	}
	for _, s := range env.all() {
		if fp, err := signatureKeyID(s); err == nil && fp == k.Public().ID() {
			return nil, fmt.Errorf("desired envelope: already signed by key %s", fp)
		}
	}
	env.Signatures = append(env.all(), string(Sign(k, env.Document)))
	env.Signature = ""
	if len(env.Signatures) > MaxSignatures {
		return nil, fmt.Errorf("desired envelope: %d signatures, at most %d", len(env.Signatures), MaxSignatures)
	}
	return json.Marshal(env)
}

// Open checks an envelope: its size, its signature by one of the trusted
// keys, and returns the signed document bytes and the key that signed them.
func Open(trusted []PublicKey, msg []byte) ([]byte, PublicKey, error) {
	doc, signers, err := OpenThreshold(trusted, 1, msg)
	if err != nil {
		return nil, PublicKey{}, err
	}
	return doc, signers[0], nil
}

// OpenThreshold checks an envelope: its size, and that at least threshold
// distinct trusted keys signed its document. A signature that names a
// trusted key but does not verify refuses the envelope (its bytes were
// changed); signatures of keys not trusted are ignored while the threshold
// is met. It returns the signed document bytes and the trusted keys that
// signed them.
func OpenThreshold(trusted []PublicKey, threshold int, msg []byte) ([]byte, []PublicKey, error) {
	if threshold < 1 {
		threshold = 1
	}
	env, err := ParseEnvelope(msg)
	if err != nil {
		return nil, nil, err
	}
	var signers []PublicKey
	var untrusted []string
	for _, s := range env.all() {
		k, err := Verify(trusted, env.Document, []byte(s))
		if errors.Is(err, ErrUntrustedKey) {
			untrusted = append(untrusted, err.Error())
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("desired envelope: %w", err)
		}
		dup := false
		for _, o := range signers {
			dup = dup || bytes.Equal(o.Key, k.Key)
		}
		if !dup {
			signers = append(signers, k)
		}
	}
	if len(signers) >= threshold {
		return env.Document, signers, nil
	}
	if threshold == 1 && len(untrusted) > 0 {
		return nil, nil, fmt.Errorf("desired envelope: %s", untrusted[0])
	}
	ids := make([]string, len(signers))
	for i, k := range signers {
		ids[i] = k.ID()
	}
	msgText := fmt.Sprintf("desired envelope: signed by %d distinct trusted keys (%s), the threshold is %d", len(signers), strings.Join(ids, " "), threshold)
	if len(untrusted) > 0 {
		msgText += "; not counted: " + strings.Join(untrusted, "; ")
	}
	return nil, nil, errors.New(msgText)
}
