package inventory

import (
	"encoding/json"
	"fmt"
)

// Telemetry is what the fleet reads of a node's telemetry document
// (<prefix>/<node>/document, published when telemetry.publish_document is
// on; docs/telemetry.md): the system's uptime, CPU, load, memory and
// filesystems, the interfaces' traffic, the wifi stations' signal, and
// each sliver's use.
type Telemetry struct {
	Node   string  `json:"node"`
	TS     float64 `json:"ts"`
	System *struct {
		UptimeSeconds float64    `json:"uptime_seconds"`
		Load          [3]float64 `json:"load"`
		CPU           struct {
			Count       int     `json:"count"`
			BusyPercent float64 `json:"busy_percent"`
		} `json:"cpu"`
		Memory struct {
			TotalBytes     int64   `json:"total_bytes"`
			AvailableBytes int64   `json:"available_bytes"`
			UsedPercent    float64 `json:"used_percent"`
		} `json:"memory"`
		Filesystems []struct {
			Mount       string  `json:"mount"`
			UsedPercent float64 `json:"used_percent"`
		} `json:"filesystems"`
	} `json:"system"`
	Interfaces []Interface `json:"interfaces"`
	Wifi       *struct {
		Radios []struct {
			Name string `json:"name"`
			MAC  string `json:"mac"`
			Mode string `json:"mode"`
			SSID string `json:"ssid"`
		} `json:"radios"`
		Stations []Station `json:"stations"`
	} `json:"wifi"`
	Slivers []struct {
		Name             string  `json:"name"`
		Slice            string  `json:"slice"`
		State            string  `json:"state"`
		MemoryBytes      int64   `json:"memory_bytes"`
		MemoryLimitBytes int64   `json:"memory_limit_bytes"`
		CPUPercent       float64 `json:"cpu_percent"`
		RxBps            float64 `json:"rx_bps"`
		TxBps            float64 `json:"tx_bps"`
	} `json:"slivers"`
}

// Interface is one network interface of a telemetry document.
type Interface struct {
	Name  string  `json:"name"`
	State string  `json:"state"`
	MAC   string  `json:"mac"`
	RxBps float64 `json:"rx_bps"`
	TxBps float64 `json:"tx_bps"`
}

// Station is one associated wifi peer of a telemetry document.
type Station struct {
	Ifname    string  `json:"ifname"`
	MAC       string  `json:"mac"`
	SignalDBM float64 `json:"signal_dbm"`
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
