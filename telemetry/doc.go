// Package telemetry collects the node's state into one sample document and
// publishes it over MQTT, spooling samples until the broker acknowledges them.
//
// Collectors (system, interfaces, wifi, slivers, agent) each fill one group
// of a Document; each is one file behind the Collector interface, registered
// with a default on/off. A Sampler runs them and assembles documents; a
// Publisher samples each group at its interval, encodes the groups as flat
// JSON objects (or influx line protocol) on
// <prefix>/<node>/telemetry/<group>, and sends them through a bounded spool
// (RAM or file) that a message leaves only once the broker acknowledged it.
// The status topic carries a retained "online" and a retained last will
// "offline"; events (policy decisions, alerts) go to <prefix>/<node>/events
// through the same spool. The latest document is available to policies
// (Publisher.Latest, Publisher.Subscribe) and, optionally, to Prometheus.
//
// The package imports no other package of nodekeeper: what it needs from
// the agent is declared here (SliverLister, PolicyCounter). The document
// schema and the wire formats are in docs/telemetry.md.
package telemetry
