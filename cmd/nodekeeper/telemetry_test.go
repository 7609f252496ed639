package main

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

func TestTelemetryCommand(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no subcommand", []string{"telemetry"}, 2, "usage: nodekeeper telemetry sample"},
		{"unknown subcommand", []string{"telemetry", "frob"}, 2, `unknown subcommand "frob"`},
		{"interval too short", []string{"telemetry", "publish", "--node", "n1", "--interval", "10ms"}, 2, "interval 10ms: must be at least 100ms"},
		{"bad intervals flag", []string{"telemetry", "publish", "--intervals", "wifi"}, 2, `--intervals "wifi"`},
		{"bad qos", []string{"telemetry", "publish", "--node", "n1", "--qos", "2"}, 2, "qos 2"},
		{"unknown collector", []string{"telemetry", "sample", "--collectors", "gpu"}, 2, `unknown collector "gpu"`},
		{"stray argument", []string{"telemetry", "publish", "extra"}, 2, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := dispatch(tt.args, strings.NewReader(""), &out, &errb); code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errb.String())
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", errb.String(), tt.stderr)
			}
		})
	}
}

func TestTelemetrySamplePrintsDocument(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the collectors read Linux's /proc and netlink (not a CI platform)")
	}
	var out, errb bytes.Buffer
	if code := dispatch([]string{"telemetry", "sample", "--node", "n7", "--collectors", "-wifi,-slivers"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var doc struct {
		Node       string
		Seq        uint64
		System     map[string]any
		Interfaces []map[string]any
		Wifi       any
		Collectors map[string]map[string]any
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if doc.Node != "n7" || doc.Seq != 1 || doc.System["uptime_seconds"] == nil || len(doc.Interfaces) == 0 || doc.Wifi != nil {
		t.Errorf("document %s", out.String())
	}
	if _, ok := doc.Collectors["wifi"]; ok {
		t.Error("wifi collector ran though switched off")
	}
}
