package agent

import (
	"slices"
	"strings"
)

// Remote documents may set only what the owner lets them. A setting that
// names a file, socket, directory, broker, credential or key, or that
// widens what policies reach, is the owner's unless the owner opts in,
// per setting, with `list remote_allow` in the remote section:
//
//	SECTION.OPTION   one option, e.g. telemetry.broker
//	SECTION          every option of the named section, e.g. a netcfg bridge
//
// Without an entry, documents may change only the settings of
// remoteDefaults (docs/remote.md gives the reason for each).

// remoteDefaults are the options of the agent's own section types that
// documents may change without an opt-in, as " TYPE.OPTION ": each names
// no file, socket, directory, broker, credential or key, and none widens
// what a policy reaches.
const remoteDefaults = " agent.node_state agent.log_level agent.failure_threshold agent.failure_window" +
	" telemetry.interval telemetry.intervals telemetry.qos telemetry.keepalive telemetry.collectors" +
	" telemetry.start_delay telemetry.spool_flush telemetry.format telemetry.ha_discovery" +
	" telemetry.drain_rate telemetry.reconnect_max telemetry.publish_document" +
	" policy.cpu_budget policy.memory_budget policy.dry_run remote.peer remote.peers_all remote.max_peers "

// remoteAllowed reports whether a document may change option of the
// section named section, of type typ; why says what to do when it may not.
func remoteAllowed(allow []string, section, typ, option string) (ok bool, why string) {
	key := section + "." + option
	if slices.Contains(allow, key) || slices.Contains(allow, section) {
		return true, ""
	}
	if strings.Contains(remoteDefaults, " "+typ+"."+option+" ") {
		return true, ""
	}
	return false, "documents set it only if the owner lets them (list remote_allow '" + key + "')"
}
