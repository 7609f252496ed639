package inventory

import (
	"encoding/json"
	"fmt"
)

// Telemetry is what the fleet reads of a node's telemetry document
// (<prefix>/<node>/document, published when telemetry.publish_document is
// on; docs/telemetry.md): the system's load, memory and filesystems, and
// each sliver's use.
type Telemetry struct {
	Node   string `json:"node"`
	System *struct {
		Load   [3]float64 `json:"load"`
		Memory struct {
			UsedPercent float64 `json:"used_percent"`
		} `json:"memory"`
		Filesystems []struct {
			Mount       string  `json:"mount"`
			UsedPercent float64 `json:"used_percent"`
		} `json:"filesystems"`
	} `json:"system"`
	Slivers []struct {
		Name        string  `json:"name"`
		Slice       string  `json:"slice"`
		State       string  `json:"state"`
		MemoryBytes int64   `json:"memory_bytes"`
		CPUPercent  float64 `json:"cpu_percent"`
		RxBps       float64 `json:"rx_bps"`
		TxBps       float64 `json:"tx_bps"`
	} `json:"slivers"`
}

// ParseTelemetry reads a telemetry document.
func ParseTelemetry(b []byte) (*Telemetry, error) {
	if len(b) > maxPayload {
		return nil, fmt.Errorf("telemetry document of %d bytes: larger than %d", len(b), maxPayload)
	}
	var t Telemetry
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("telemetry document: %w", err)
	}
	return &t, nil
}

// FlashUsed is the used share of the fullest of / and /overlay, in
// percent (0 without filesystems).
func (t *Telemetry) FlashUsed() float64 {
	var used float64
	if t.System != nil {
		for _, fs := range t.System.Filesystems {
			if fs.Mount == "/" || fs.Mount == "/overlay" {
				used = max(used, fs.UsedPercent)
			}
		}
	}
	return used
}
