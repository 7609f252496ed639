package inventory

import (
	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/wire"
)

// Info is what a node says about itself, retained and signed with the
// node's own key on <prefix>/<node>/info (wire.Info, docs/remote.md "The
// info topic"): labels and tags from UCI `list label`, location, model,
// release, and its policies with their last decisions.
type Info = wire.Info

// Location is where the node stands.
type Location = wire.Location

// PolicyInfo is one loaded policy and its last decision.
type PolicyInfo = wire.PolicyInfo

// Facts returns what groups match on; a node without info has none.
func (n *Node) Facts() dir.NodeFacts {
	if n.Info == nil {
		return dir.NodeFacts{}
	}
	return dir.NodeFacts{Labels: n.Info.Labels, Tags: n.Info.Tags, Model: n.Info.Model, Release: n.Info.Release}
}
