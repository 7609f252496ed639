// Package agent is the nodekeeper daemon: it reads the UCI configuration,
// wires telemetry, policies, slivers and the network together, serves the
// control socket and applies signed desired state received over MQTT.
package agent
