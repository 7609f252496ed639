// Package telemetry collects the node's state into one sample document and
// publishes it over MQTT, spooling samples until the broker acknowledges them.
package telemetry
