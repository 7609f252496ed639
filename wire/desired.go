package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Desired is the document an admin signs and publishes, retained, on
// <prefix>/<node>/desired (docs/remote.md). Absent parts leave the node's
// as they are; a present part is the whole truth for what documents manage.
type Desired struct {
	// Node must be this node's id.
	Node string `json:"node"`
	// Seq increases with every document for this node; a document whose
	// seq is not above the last one seen is refused (replay).
	Seq uint64 `json:"seq"`
	// TS, if set, is when the document was made (RFC 3339): a node takes
	// the newest TS of a verified document as a lower bound of the time,
	// for Expires, in case its clock is behind.
	TS *time.Time `json:"ts,omitempty"`
	// Expires, if set, is when the document goes stale (RFC 3339): a node
	// refuses it when it arrives after then (a broker replaying an old
	// document and hiding newer ones). A document already applied stays
	// applied.
	Expires *time.Time `json:"expires,omitempty"`
	// NodeState, if set, is production, safe or debug: shorthand for the
	// setting agent.node_state.
	NodeState string `json:"node_state,omitempty"`
	// Slivers, if present, are the slivers documents want on the node, each
	// a sliver spec (docs/slivers.md) that the node's container package
	// checks: each is created or updated; a sliver an earlier document
	// created and this one omits is removed. Slivers created locally are
	// left alone.
	Slivers *[]json.RawMessage `json:"slivers,omitempty"`
	// Policies, if present, are the policy files documents want, by file
	// name (NAME.lua) to Lua source; a file an earlier document wrote and
	// this one omits is removed.
	Policies *map[string]string `json:"policies,omitempty"`
	// Settings are UCI options of /etc/config/nodekeeper by
	// "SECTION.OPTION": a string sets an option, an array of strings a
	// list, null deletes the option (back to its default).
	Settings map[string]Setting `json:"settings,omitempty"`
}

// The node states a document may ask for (failure is the agent's own).
const (
	Production = "production"
	Safe       = "safe"
	Debug      = "debug"
)

// Setting is one value of Desired.Settings.
type Setting struct {
	Values []string // one value for an option, any number for a list
	List   bool
	Delete bool // JSON null
}

// UnmarshalJSON reads a string, an array of strings or null.
func (s *Setting) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = Setting{Delete: true}
		return nil
	case len(b) > 0 && b[0] == '[':
		var v []string
		if err := json.Unmarshal(b, &v); err != nil {
			return errors.New("want a string, an array of strings or null")
		}
		*s = Setting{Values: v, List: true}
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return errors.New("want a string, an array of strings or null")
	}
	*s = Setting{Values: []string{v}}
	return nil
}

// MarshalJSON writes the setting back as it was given.
func (s Setting) MarshalJSON() ([]byte, error) {
	switch {
	case s.Delete:
		return []byte("null"), nil
	case s.List:
		return json.Marshal(s.Values)
	case len(s.Values) == 1:
		return json.Marshal(s.Values[0])
	}
	return nil, errors.New("setting without a value")
}

// Limits of a desired document's parts.
const (
	// MaxPolicyBytes bounds one policy file's source.
	MaxPolicyBytes = 256 << 10
	// MaxSlivers bounds the slivers of one document.
	MaxSlivers = 256
	// MaxPolicies bounds the policy files of one document.
	MaxPolicies = 64
	// MaxSettings bounds the settings of one document.
	MaxSettings = 256
	// MaxSettingValues bounds the values of one list setting.
	MaxSettingValues = 256
	// MaxSettingValue bounds one value of a setting (UCI values the agent
	// reads are paths, names, keys and numbers).
	MaxSettingValue = 4096
)

// quoted quotes s for an error, cut to 64 bytes: errors are logged and
// published, and s may be as long as its document.
func quoted(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%q...", s[:64])
	}
	return fmt.Sprintf("%q", s)
}

// ValidPolicyFile reports whether name is a policy file name a desired
// document may carry: a letter or digit, then up to 63 letters, digits, '_',
// '.' or '-', then ".lua"; test files (*_test.lua) are not policies.
// (Written out rather than as a regexp: regexp costs the router 0.1 MB.)
func ValidPolicyFile(name string) bool {
	base, ok := strings.CutSuffix(name, ".lua")
	if !ok || base == "" || len(base) > 64 || strings.HasSuffix(name, "_test.lua") {
		return false
	}
	for i := 0; i < len(base); i++ {
		c := base[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return true
}

// validUCIName reports whether s is a UCI section or option name:
// [A-Za-z0-9_]+, libuci's rule (the same as uci.ValidName, written here so
// that the wire format imports nothing of nodekeeper's).
func validUCIName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ParseDesired reads a document strictly (unknown fields are errors) and
// checks what can be told without the node: its node, seq, node state,
// number of slivers, policy file names and setting names. The slivers'
// specs are left to the node (the agent checks them with the container
// package). The error says where.
func ParseDesired(doc []byte, node string) (*Desired, error) {
	var d Desired
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("desired document: %w", err)
	}
	if dec.More() {
		return nil, errors.New("desired document: trailing data after the JSON object")
	}
	if d.Node != node {
		return nil, fmt.Errorf("desired document: node %s, but this node is %q", quoted(d.Node), node)
	}
	if d.Seq == 0 {
		return nil, errors.New("desired document: seq missing or 0 (it starts at 1 and grows with every document)")
	}
	if d.TS != nil && d.Expires != nil && !d.Expires.After(*d.TS) {
		return nil, fmt.Errorf("desired document: expires %s is not after ts %s", d.Expires.Format(time.RFC3339), d.TS.Format(time.RFC3339))
	}
	if d.NodeState != "" {
		switch d.NodeState {
		case Production, Safe, Debug:
		default:
			return nil, fmt.Errorf("desired document: node_state %s: want production, safe or debug", quoted(d.NodeState))
		}
		if s, ok := d.Settings["agent.node_state"]; ok && (s.Delete || len(s.Values) != 1 || s.Values[0] != d.NodeState) {
			return nil, errors.New("desired document: node_state and settings agent.node_state disagree")
		}
	}
	if d.Slivers != nil && len(*d.Slivers) > MaxSlivers {
		return nil, fmt.Errorf("desired document: %d slivers, at most %d", len(*d.Slivers), MaxSlivers)
	}
	if d.Policies != nil && len(*d.Policies) > MaxPolicies {
		return nil, fmt.Errorf("desired document: %d policy files, at most %d", len(*d.Policies), MaxPolicies)
	}
	if len(d.Settings) > MaxSettings {
		return nil, fmt.Errorf("desired document: %d settings, at most %d", len(d.Settings), MaxSettings)
	}
	if d.Policies != nil {
		for name, src := range *d.Policies {
			if !ValidPolicyFile(name) {
				return nil, fmt.Errorf("desired document: policy file name %s: want NAME.lua (letters, digits, '_', '-', '.'), not a test", quoted(name))
			}
			if len(src) > MaxPolicyBytes {
				return nil, fmt.Errorf("desired document: policy %s: %d bytes, at most %d", name, len(src), MaxPolicyBytes)
			}
		}
	}
	for key, s := range d.Settings {
		sec, opt, ok := strings.Cut(key, ".")
		if !ok || !validUCIName(sec) || !validUCIName(opt) {
			return nil, fmt.Errorf("desired document: setting %s: want SECTION.OPTION", quoted(key))
		}
		if !s.Delete && !s.List && len(s.Values) != 1 {
			return nil, fmt.Errorf("desired document: setting %s: no value", key)
		}
		if len(s.Values) > MaxSettingValues {
			return nil, fmt.Errorf("desired document: setting %s: %d values, at most %d", key, len(s.Values), MaxSettingValues)
		}
		for _, v := range s.Values {
			if strings.ContainsAny(v, "\x00") {
				return nil, fmt.Errorf("desired document: setting %s: NUL byte in a value", key)
			}
			if len(v) > MaxSettingValue {
				return nil, fmt.Errorf("desired document: setting %s: a value of %d bytes, at most %d", key, len(v), MaxSettingValue)
			}
		}
	}
	return &d, nil
}

// SettingsInOrder returns the settings' keys sorted, so that applying and
// reporting are deterministic.
func (d *Desired) SettingsInOrder() []string {
	keys := make([]string, 0, len(d.Settings))
	for k := range d.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// WithNodeState folds NodeState into the settings.
func (d *Desired) WithNodeState() {
	if d.NodeState == "" {
		return
	}
	if d.Settings == nil {
		d.Settings = map[string]Setting{}
	}
	d.Settings["agent.node_state"] = Setting{Values: []string{d.NodeState}}
}
