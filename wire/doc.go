// Package wire is nodekeeper's wire format: what a node and the admin's
// tools (nodekeeper push/sign/keygen/watch, the fleet tool) exchange over
// MQTT. It holds the desired document an admin signs, the envelope that
// carries it with its usign signature, the keys in OpenWrt usign format, and
// the state report a node publishes.
//
// It imports nothing of nodekeeper's, so that the router's agent and the
// server's fleet tool share it without pulling in each other's code. What
// only the node can check (a sliver's spec against the container package, a
// setting against the config) stays in the agent.
package wire
