package wire

import "time"

// Info is what a node says about itself, retained and signed (SignInfo)
// on <prefix>/<node>/info: published at start and when any of it changes.
//
//	{"node": "node-17", "ts": 1764097485.1,
//	 "labels": {"owner": "alice", "site": "rooftop-3"}, "tags": ["outdoor"],
//	 "location": {"lat": 41.3874, "lon": 2.1686},
//	 "model": "TP-Link Archer C7 v5", "release": "OpenWrt 23.05.3",
//	 "policies": [{"file": "cpu-guard.lua", "name": "cpu-guard",
//	               "last_decision": {"time": "2026-01-01T12:00:00Z", "fired": true, "actions": 1}}]}
//
// Labels come from UCI `list label 'KEY=VALUE'`, tags from `list label
// 'TAG'`, the location from `option latitude` and `option longitude` (of
// `config agent`), the model from /tmp/sysinfo/model, the release from
// /etc/openwrt_release's DISTRIB_DESCRIPTION (docs/config.md).
type Info struct {
	Node     string            `json:"node"`
	TS       float64           `json:"ts,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Tags     []string          `json:"tags,omitempty"`
	Location *Location         `json:"location,omitempty"`
	Model    string            `json:"model,omitempty"`
	Release  string            `json:"release,omitempty"`
	Policies []PolicyInfo      `json:"policies,omitempty"`
}

// Location is where the node stands, in decimal degrees.
type Location struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// PolicyInfo is one loaded policy and its last decision, if it made one
// since the agent started.
type PolicyInfo struct {
	File         string           `json:"file"`
	Name         string           `json:"name"`
	LastDecision *DecisionSummary `json:"last_decision,omitempty"`
}

// DecisionSummary is a policy's last decision in short: when, whether it
// fired, how many actions it asked for, and the error of a failed
// evaluation or load.
type DecisionSummary struct {
	Time    time.Time `json:"time"`
	Fired   bool      `json:"fired"`
	Actions int       `json:"actions"`
	Error   string    `json:"error,omitempty"`
}

// SignInfo returns the signed info message for an Info made with
// json.Marshal: the state report's envelope (SignedState) around it.
func SignInfo(k SecretKey, info []byte) ([]byte, error) { return SignState(k, info) }

// OpenInfo checks a signed info message against the key it carries and
// returns the Info and that key (trust on first sight, as OpenState):
// the caller pins the key, or compares it with the node's pinned one
// (VerifyInfo), and checks the Info's node against the topic's.
func OpenInfo(msg []byte) (*Info, PublicKey, error) {
	var i Info
	k, _, err := openSigned("info", msg, &i)
	if err != nil {
		return nil, PublicKey{}, err
	}
	return &i, k, nil
}

// VerifyInfo checks a signed info message against the node's pinned key
// and returns its Info; an unsigned, badly signed or differently keyed
// message is an error.
func VerifyInfo(pinned PublicKey, msg []byte) (*Info, error) {
	i, k, err := OpenInfo(msg)
	if err != nil {
		return nil, err
	}
	if err := checkPinned("info", pinned, k); err != nil {
		return nil, err
	}
	return i, nil
}
