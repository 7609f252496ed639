package policy

import (
	"sort"
	"strings"
)

// Events that event-triggered policies (on = "...") can wait for. The agent
// feeds them with Engine.Event and Engine.Admit; each comes with a table of
// details, the policy's second argument.
var events = map[string]string{
	"link.up":       "an interface came up: {iface=..., flaps=...}",
	"link.down":     "an interface went down: {iface=..., flaps=...}",
	"link.flapping": "an interface went up and down 5 times within a minute (once per episode): {iface=..., flaps=...}",
	"sliver.state":  "a sliver changed state: {sliver=..., slice=..., from=..., to=...}",
	"sliver.admit":  "a sliver asks to be admitted: {sliver=..., slice=..., owner=..., resources={cpu=..., memory_bytes=..., disk_bytes=...}}; the policy may refuse(reason)",
	"peer.up":       "a peer node was seen again: {peer=...}",
	"peer.down":     "a peer node stopped publishing: {peer=...}",
}

// EventAdmit is the event of admission policies.
const EventAdmit = "sliver.admit"

func eventNames() string {
	names := make([]string, 0, len(events))
	for n := range events {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
