package inventory

import (
	"strings"

	"github.com/nodekeeper/nodekeeper/wire"
)

// StateReport is the node's state report (<prefix>/<node>/state).
type StateReport = wire.StateReport

// Refused returns the slivers the node's owner refused (admission
// policies or `list unmanaged`), by sliver name, with why.
func Refused(r *StateReport) map[string]string {
	out := map[string]string{}
	if r == nil {
		return out
	}
	for _, e := range r.Errors {
		name, ok := strings.CutPrefix(e.Member, "sliver ")
		if !ok {
			continue
		}
		if strings.HasPrefix(e.Message, "refused by") || strings.Contains(e.Message, "unmanaged") {
			out[name] = e.Message
		}
	}
	return out
}

// SliverOf returns the sliver of that name in r, or nil.
func SliverOf(r *StateReport, name string) *wire.SliverReport {
	if r == nil {
		return nil
	}
	for i := range r.Slivers {
		if r.Slivers[i].Name == name {
			return &r.Slivers[i]
		}
	}
	return nil
}
