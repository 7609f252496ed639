package telemetry

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// haSensors are the Home Assistant sensors announced by discovery, each a
// field of a group's flat JSON message: group, key, name, unit, device
// class, state class (a flat table: no code per entry).
var haSensors = []string{
	"system", "load1", "Load (1 min)", "", "", "measurement",
	"system", "cpu_busy_percent", "CPU busy", "%", "", "measurement",
	"system", "memory_used_percent", "Memory used", "%", "", "measurement",
	"system", "memory_available_bytes", "Memory available", "B", "data_size", "measurement",
	"system", "uptime_seconds", "Uptime", "s", "duration", "total_increasing",
	"system", "processes_total", "Processes", "", "", "measurement",
	"agent", "spool_depth", "Telemetry backlog", "", "", "measurement",
	"agent", "dropped_total", "Telemetry dropped", "", "", "total_increasing",
	"agent", "rss_bytes", "Agent memory", "B", "data_size", "measurement",
}

// haNodeID is the node id as Home Assistant accepts it in a discovery
// topic's node level and in unique ids ([a-zA-Z0-9_-]+): other bytes
// become '_' and, when any did, an FNV-1a hash of the real id is appended
// (8 hex digits) so that ids which map alike ("a.b", "a_b") stay apart.
func haNodeID(id string) string {
	b := []byte(id)
	changed := len(b) == 0
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
			changed = true
		}
	}
	if !changed {
		return id
	}
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	b = append(b, '_')
	s := strconv.FormatUint(uint64(h), 16)
	for range 8 - len(s) {
		b = append(b, '0')
	}
	return string(append(b, s...))
}

// haEntityID is the default entity id Home Assistant is asked to use:
// "sensor." then the object id (a haNodeID and a key) in its entity id
// grammar: lower case letters, digits and '_'.
func haEntityID(object string) string {
	return "sensor." + strings.ReplaceAll(strings.ToLower(object), "-", "_")
}

// haConfig is a sensor's discovery payload.
type haConfig struct {
	Name                string   `json:"name"`
	UniqueID            string   `json:"unique_id"`
	DefaultEntityID     string   `json:"default_entity_id"`
	StateTopic          string   `json:"state_topic"`
	ValueTemplate       string   `json:"value_template"`
	AvailabilityTopic   string   `json:"availability_topic"`
	PayloadAvailable    string   `json:"payload_available"`
	PayloadNotAvailable string   `json:"payload_not_available"`
	Unit                string   `json:"unit_of_measurement,omitempty"`
	DeviceClass         string   `json:"device_class,omitempty"`
	StateClass          string   `json:"state_class,omitempty"`
	Device              haDevice `json:"device"`
}

// haDevice is the node as a Home Assistant device.
type haDevice struct {
	Identifiers  []string `json:"identifiers"`
	Name         string   `json:"name"`
	Manufacturer string   `json:"manufacturer"`
}

// discoveryConfigs returns the retained discovery messages (topic, payload)
// for the node's sensors of the enabled groups. Topics and unique ids use
// haNodeID; the payloads name the node by its real id (device name,
// identifiers) and point at its real topics.
func discoveryConfigs(c *Config, enabled []string) [][2]string {
	base := c.Prefix + "/" + c.NodeID
	id := haNodeID(c.NodeID)
	cfg := haConfig{
		AvailabilityTopic:   base + "/status",
		PayloadAvailable:    "online",
		PayloadNotAvailable: "offline",
		Device:              haDevice{Identifiers: []string{"nodekeeper_" + c.NodeID}, Name: c.NodeID, Manufacturer: "nodekeeper"},
	}
	var out [][2]string
	for i := 0; i+5 < len(haSensors); i += 6 {
		s := haSensors[i : i+6]
		if !slices.Contains(enabled, s[0]) {
			continue
		}
		cfg.Name, cfg.UniqueID = s[2], id+"_"+s[1]
		cfg.DefaultEntityID = haEntityID(cfg.UniqueID)
		cfg.StateTopic, cfg.ValueTemplate = base+"/telemetry/"+s[0], "{{ value_json."+s[1]+" }}"
		cfg.Unit, cfg.DeviceClass, cfg.StateClass = s[3], s[4], s[5]
		b, _ := json.Marshal(&cfg) // strings only: cannot fail
		out = append(out, [2]string{c.HAPrefix + "/sensor/" + id + "/" + s[1] + "/config", string(b)})
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
