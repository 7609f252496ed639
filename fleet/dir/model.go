package dir

import (
	"github.com/nodekeeper/nodekeeper/container"
)

// Fleet is a loaded, checked fleet directory.
type Fleet struct {
	// Root is the directory it was loaded from.
	Root string
	// Groups by name; "all" (every node the fleet knows) is always there.
	Groups map[string]*Group
	// Slices by name.
	Slices map[string]*Slice
	// Policies by file name (NAME.lua).
	Policies map[string]*Policy
	// Settings per group, in the order settings.yaml lists them.
	Settings []*GroupSettings
}

// AllGroup is the group every node belongs to.
const AllGroup = "all"

// Group is a set of nodes: those named, and those whose reported
// information matches.
type Group struct {
	Name  string
	Nodes []string `yaml:"nodes"`
	Match *Match   `yaml:"match"`
	Pos   Pos      `yaml:"-"`
}

// Match selects nodes by what they report in their info topic. Every
// field given must hold; values are shell patterns (path.Match), so
// "TP-Link*" matches every TP-Link model.
type Match struct {
	// Labels are the node's UCI labels (list label 'KEY=VALUE').
	Labels map[string]string `yaml:"labels"`
	// Tags must all be among the node's tags (list label 'TAG').
	Tags    []string `yaml:"tags"`
	Model   string   `yaml:"model"`
	Release string   `yaml:"release"`
}

// Slice is one slice: a sliver of the same spec on each node it is
// placed on (named after the slice).
type Slice struct {
	Name string `yaml:"-"`
	// Spec is the sliver spec every node gets (Name and Slice are the
	// slice's name), checked as the node checks it.
	Spec container.Spec `yaml:"-"`
	// Owner is the key id (16 hex digits, as `usign -F` prints it) of
	// whoever answers for the slice; nodes' admission policies see the
	// id of the key that signed the document.
	Owner     string    `yaml:"-"`
	Placement Placement `yaml:"-"`
	Pos       Pos       `yaml:"-"`
}

// Placement says where a slice's slivers go: the nodes named, or Count
// nodes of Group (spread: one sliver a node, chosen stably; a node whose
// owner refuses the sliver passes it to the next candidate).
type Placement struct {
	Nodes []string
	Group string
	Count int
}

// Policy is one policy file and the groups it goes to.
type Policy struct {
	File   string // NAME.lua
	Source string
	Groups []string
	Pos    Pos // of its entry in policies.yaml
}

// GroupSettings are the settings of the nodes of one group.
type GroupSettings struct {
	Group string
	// NodeState is production, safe or debug, or empty.
	NodeState string
	// Settings are UCI options by SECTION.OPTION.
	Settings map[string]Setting
	Pos      Pos
	// KeyPos is where each setting was written.
	KeyPos map[string]Pos
}

// Setting is one UCI option's wanted value: one value, a list, or
// deleted (back to its default).
type Setting struct {
	Values []string
	List   bool
	Delete bool
}
