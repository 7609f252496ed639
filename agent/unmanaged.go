package agent

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nodekeeper/nodekeeper/uci"
	"github.com/nodekeeper/nodekeeper/wire"
)

// The owner keeps the last word: `list unmanaged` in the remote section
// names what desired documents may not change. Entries:
//
//	SECTION          every option of a named section (e.g. telemetry)
//	SECTION.OPTION   one option (e.g. agent.node_state)
//	slice:NAME       the slivers of one slice
//	slivers          every sliver
//	policies         every policy file
//	policy:FILE      one policy file (e.g. policy:cpu-guard.lua)
//
// Whatever the list says, documents never change who is trusted or what is
// unmanaged: remote.trusted_key, remote.threshold, remote.unmanaged,
// remote.enabled and remote.remote_allow are the owner's alone.

// ownerOnly are settings no document may change.
var ownerOnly = []string{"remote.trusted_key", "remote.threshold", "remote.unmanaged", "remote.enabled", "remote.remote_allow"}

// checkUnmanaged validates one entry of the list.
func checkUnmanaged(u string) error {
	switch {
	case u == "slivers" || u == "policies":
		return nil
	case strings.HasPrefix(u, "slice:"):
		if strings.TrimPrefix(u, "slice:") == "" {
			return errors.New("slice: needs a slice name")
		}
		return nil
	case strings.HasPrefix(u, "policy:"):
		if !wire.ValidPolicyFile(strings.TrimPrefix(u, "policy:")) {
			return errors.New("policy: needs a policy file name (NAME.lua)")
		}
		return nil
	}
	sec, opt, hasOpt := strings.Cut(u, ".")
	if !uci.ValidName(sec) || (hasOpt && !uci.ValidName(opt)) {
		return errors.New("want SECTION, SECTION.OPTION, slice:NAME, slivers, policies or policy:FILE")
	}
	return nil
}

// unmanagedSet answers what a document may change.
type unmanagedSet []string

// setting reports whether SECTION.OPTION is the owner's, and why.
func (u unmanagedSet) setting(section, option string) (bool, string) {
	key := section + "." + option
	for _, o := range ownerOnly {
		if key == o {
			return true, "only the node's owner sets " + key
		}
	}
	for _, e := range u {
		if e == section || e == key {
			return true, fmt.Sprintf("unmanaged (list unmanaged '%s')", e)
		}
	}
	return false, ""
}

// slice reports whether slivers of slice are the owner's.
func (u unmanagedSet) slice(slice string) (bool, string) {
	for _, e := range u {
		if e == "slivers" || e == "slice:"+slice {
			return true, fmt.Sprintf("unmanaged (list unmanaged '%s')", e)
		}
	}
	return false, ""
}

// policyFile reports whether a policy file is the owner's.
func (u unmanagedSet) policyFile(name string) (bool, string) {
	for _, e := range u {
		if e == "policies" || e == "policy:"+name {
			return true, fmt.Sprintf("unmanaged (list unmanaged '%s')", e)
		}
	}
	return false, ""
}
