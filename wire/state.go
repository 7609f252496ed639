package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// MaxStateBytes bounds a signed state report an admin tool reads.
const MaxStateBytes = 1 << 20

// SignedState is what a node publishes, retained, on <prefix>/<node>/state:
// its state report's exact bytes (a JSON object, kept verbatim so that the
// signature checks the bytes the node signed), the node's public key
// (usign base64, as the report's node_key) and a usign signature of the
// report by that key. The key is the node's own identity, made at its
// first start: an admin tool pins it on first sight (or from an enrolment
// list) and from then on believes only reports that VerifyState accepts
// with the pinned key. A report that does not verify says nothing about
// the node: any broker user can publish on its topic.
type SignedState struct {
	Report    json.RawMessage `json:"report"`
	Key       string          `json:"key"`
	Signature string          `json:"signature"`
}

// SignState returns the signed state message for a report made with
// json.Marshal (its bytes are signed as they are).
func SignState(k SecretKey, report []byte) ([]byte, error) {
	if !json.Valid(report) {
		return nil, errors.New("state report is not valid JSON")
	}
	return json.Marshal(SignedState{Report: report, Key: k.Public().String(), Signature: string(Sign(k, report))})
}

// OpenState checks a signed state message against the key it carries and
// returns the report and that key, for an admin tool that has not pinned
// the node's key yet (trust on first sight): the caller must pin the key
// (and check the report's node against the topic's) before believing it.
func OpenState(msg []byte) (*StateReport, PublicKey, error) {
	if len(msg) > MaxStateBytes {
		return nil, PublicKey{}, fmt.Errorf("state message of %d bytes exceeds the %d-byte limit", len(msg), MaxStateBytes)
	}
	var s SignedState
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, PublicKey{}, fmt.Errorf("state message: not a signed state report: %w", err)
	}
	if len(s.Report) == 0 || s.Key == "" || s.Signature == "" {
		return nil, PublicKey{}, errors.New("state message: report, key or signature missing (unsigned reports are not believed)")
	}
	k, err := ParsePublicKey([]byte(s.Key))
	if err != nil {
		return nil, PublicKey{}, fmt.Errorf("state message: %w", err)
	}
	if _, err := Verify([]PublicKey{k}, s.Report, []byte(s.Signature)); err != nil {
		return nil, PublicKey{}, fmt.Errorf("state message: %w", err)
	}
	var r StateReport
	if err := json.Unmarshal(s.Report, &r); err != nil {
		return nil, PublicKey{}, fmt.Errorf("state report: %w", err)
	}
	if r.NodeKey != s.Key {
		return nil, PublicKey{}, errors.New("state report: its node_key is not the key that signed it")
	}
	return &r, k, nil
}

// ErrKeyMismatch is returned by VerifyState for a report signed by a key
// other than the pinned one.
var ErrKeyMismatch = errors.New("signed by a key other than the node's pinned key")

// VerifyState checks a signed state message against the node's pinned
// key and returns its report. An unsigned, badly signed or differently
// keyed message is an error: its report must not be believed. The caller
// checks that the report's node is the one it expects.
func VerifyState(pinned PublicKey, msg []byte) (*StateReport, error) {
	r, k, err := OpenState(msg)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(k.Key, pinned.Key) || k.Fingerprint != pinned.Fingerprint {
		return nil, fmt.Errorf("state message: key %s: %w %s", k.ID(), ErrKeyMismatch, pinned.ID())
	}
	return r, nil
}
