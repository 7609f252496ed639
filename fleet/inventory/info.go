package inventory

import "github.com/nodekeeper/nodekeeper/fleet/dir"

// Info is what a node says about itself, retained on <prefix>/<node>/info
// (published by the agent at start and when any of it changes):
//
//	{"node": "node-17", "ts": 1764097485.1,
//	 "labels": {"owner": "alice", "site": "rooftop-3"}, "tags": ["outdoor"],
//	 "location": {"lat": 41.3874, "lon": 2.1686},
//	 "model": "TP-Link Archer C7 v5", "release": "OpenWrt 23.05.3",
//	 "policies": [{"file": "cpu-guard.lua", "name": "cpu-guard",
//	               "last_decision": {"time": "2026-01-01T12:00:00Z", "fired": true, "actions": 1}}]}
//
// Labels come from UCI `list label 'KEY=VALUE'`, tags from `list label
// 'TAG'` (no '='); model from /tmp/sysinfo/model; release from
// /etc/openwrt_release's DISTRIB_DESCRIPTION.
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

// Location is where the node stands.
type Location struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// PolicyInfo is one loaded policy and its last decision.
type PolicyInfo struct {
	File         string         `json:"file"`
	Name         string         `json:"name"`
	LastDecision map[string]any `json:"last_decision,omitempty"`
}

// Facts returns what groups match on; a node without info has none.
func (n *Node) Facts() dir.NodeFacts {
	if n.Info == nil {
		return dir.NodeFacts{}
	}
	return dir.NodeFacts{Labels: n.Info.Labels, Tags: n.Info.Tags, Model: n.Info.Model, Release: n.Info.Release}
}
