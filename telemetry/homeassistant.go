package telemetry

import (
	"context"
	"encoding/json"
)

// haSensor is one Home Assistant sensor announced by discovery: a field of
// a group's flat JSON message.
type haSensor struct {
	group, key, name, unit, deviceClass, stateClass string
}

var haSensors = []haSensor{
	{"system", "load1", "Load (1 min)", "", "", "measurement"},
	{"system", "cpu_busy_percent", "CPU busy", "%", "", "measurement"},
	{"system", "memory_used_percent", "Memory used", "%", "", "measurement"},
	{"system", "memory_available_bytes", "Memory available", "B", "data_size", "measurement"},
	{"system", "uptime_seconds", "Uptime", "s", "duration", "total_increasing"},
	{"system", "processes_total", "Processes", "", "", "measurement"},
	{"agent", "spool_depth", "Telemetry backlog", "", "", "measurement"},
	{"agent", "dropped_total", "Telemetry dropped", "", "", "total_increasing"},
	{"agent", "rss_bytes", "Agent memory", "B", "data_size", "measurement"},
}

// discoveryConfigs returns the retained discovery messages (topic, payload)
// for the node's sensors of the enabled groups.
func discoveryConfigs(c *Config, enabled []string) [][2]string {
	on := map[string]bool{}
	for _, g := range enabled {
		on[g] = true
	}
	base := c.Prefix + "/" + c.NodeID
	dev := map[string]any{
		"identifiers":  []string{"nodekeeper_" + c.NodeID},
		"name":         c.NodeID,
		"manufacturer": "nodekeeper",
	}
	var out [][2]string
	for _, s := range haSensors {
		if !on[s.group] {
			continue
		}
		cfg := map[string]any{
			"name":                  s.name,
			"unique_id":             c.NodeID + "_" + s.key,
			"object_id":             c.NodeID + "_" + s.key,
			"state_topic":           base + "/telemetry/" + s.group,
			"value_template":        "{{ value_json." + s.key + " }}",
			"availability_topic":    base + "/status",
			"payload_available":     "online",
			"payload_not_available": "offline",
			"device":                dev,
		}
		if s.unit != "" {
			cfg["unit_of_measurement"] = s.unit
		}
		if s.deviceClass != "" {
			cfg["device_class"] = s.deviceClass
		}
		if s.stateClass != "" {
			cfg["state_class"] = s.stateClass
		}
		b, _ := json.Marshal(cfg) // maps of strings cannot fail
		out = append(out, [2]string{c.HAPrefix + "/sensor/" + c.NodeID + "/" + s.key + "/config", string(b)})
	}
	return out
}

// publishDiscovery sends the discovery configs (retained).
func (p *Publisher) publishDiscovery(ctx context.Context, gen uint64) bool {
	for _, m := range discoveryConfigs(&p.cfg, p.sampler.Groups()) {
		if !p.publish(ctx, gen, m[0], 1, true, []byte(m[1])) {
			return false
		}
	}
	return true
}
