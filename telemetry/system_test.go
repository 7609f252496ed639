package telemetry

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestParseLoadavg(t *testing.T) {
	tests := []struct {
		in      string
		load    [3]float64
		p       Processes
		wantErr string
	}{
		{"0.42 0.36 0.30 1/63 12345\n", [3]float64{0.42, 0.36, 0.30}, Processes{1, 63}, ""},
		{"1.00 2.00 3.00 10/200 1", [3]float64{1, 2, 3}, Processes{10, 200}, ""},
		{"0.42 0.36", [3]float64{}, Processes{}, "2 fields"},
		{"0.42 x 0.30 1/63 1", [3]float64{}, Processes{}, "load field 2"},
		{"0.42 0.36 0.30 163 1", [3]float64{}, Processes{}, "not running/total"},
		{"0.42 0.36 0.30 a/63 1", [3]float64{}, Processes{}, "running"},
	}
	for _, tt := range tests {
		load, p, err := parseLoadavg([]byte(tt.in))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseLoadavg(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || load != tt.load || p != tt.p {
			t.Errorf("parseLoadavg(%q) = %v %v %v, want %v %v", tt.in, load, p, err, tt.load, tt.p)
		}
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    cpuTimes
		count   int
		wantErr string
	}{
		{"two cpus", "cpu  10 1 5 100 2 3 4 6 0 0\ncpu0 5 0 2 50 1 1 2 3 0 0\ncpu1 5 1 3 50 1 2 2 3 0 0\nintr 1\n",
			cpuTimes{10, 1, 5, 100, 2, 3, 4, 6}, 2, ""},
		{"old kernel, four fields", "cpu 1 2 3 4\ncpu0 1 2 3 4\n", cpuTimes{user: 1, nice: 2, system: 3, idle: 4}, 1, ""},
		{"no cpu line", "intr 1\nctxt 2\n", cpuTimes{}, 0, "no cpu line"},
		{"short", "cpu 1 2\n", cpuTimes{}, 0, "2 fields"},
		{"not a number", "cpu 1 2 x 4\n", cpuTimes{}, 0, "cpu field 3"},
	}
	for _, tt := range tests {
		got, n, err := parseStat([]byte(tt.in))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want || n != tt.count {
			t.Errorf("%s: got %+v %d %v, want %+v %d", tt.name, got, n, err, tt.want, tt.count)
		}
	}
}

func TestCPUPercent(t *testing.T) {
	a := cpuTimes{user: 100, system: 50, idle: 800, iowait: 50}
	b := cpuTimes{user: 130, nice: 10, system: 60, idle: 880, iowait: 60, steal: 10}
	got := cpuPercent(a, b)
	// user 30+10 nice, system 10, idle 80, iowait 10, steal 10: 150 ticks.
	want := CPUPercent{UserPercent: round3(100 * 40.0 / 150), SystemPercent: round3(100 * 10.0 / 150), IdlePercent: round3(100 * 80.0 / 150),
		IowaitPercent: round3(100 * 10.0 / 150), StealPercent: round3(100 * 10.0 / 150), BusyPercent: round3(100 * 60.0 / 150)}
	if *got != want {
		t.Errorf("cpuPercent = %+v, want %+v", *got, want)
	}
	if got := cpuPercent(b, a); got.IdlePercent != 100 {
		t.Errorf("counters going backwards: %+v, want all idle", *got)
	}
}

func TestParseMeminfo(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Memory
		wantErr string
	}{
		{"full", "MemTotal: 1000 kB\nMemFree: 200 kB\nMemAvailable: 500 kB\nBuffers: 10 kB\nCached: 100 kB\n",
			Memory{TotalBytes: 1024000, FreeBytes: 204800, AvailableBytes: 512000, BuffersBytes: 10240, CachedBytes: 102400, UsedPercent: 50}, ""},
		{"no MemAvailable (old kernel)", "MemTotal: 1000 kB\nMemFree: 200 kB\nBuffers: 100 kB\nCached: 200 kB\n",
			Memory{TotalBytes: 1024000, FreeBytes: 204800, AvailableBytes: 512000, BuffersBytes: 102400, CachedBytes: 204800, UsedPercent: 50}, ""},
		{"no total", "MemFree: 200 kB\n", Memory{}, "no MemTotal"},
		{"bad number", "MemTotal: lots kB\n", Memory{}, "MemTotal"},
	}
	for _, tt := range tests {
		got, err := parseMeminfo([]byte(tt.in))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %+v %v, want %+v", tt.name, got, err, tt.want)
		}
	}
}

// TestFixtureDocument runs the file-reading collectors over captured /proc
// and /sys files and compares the document with a golden file.
func TestFixtureDocument(t *testing.T) {
	root, _ := filepath.Abs("testdata/root")
	s, err := NewSampler("nk-test", map[string]bool{"system": true, "slivers": true, "interfaces": false, "wifi": false, "agent": false},
		Sources{Root: root, Filesystems: []string{}, Slivers: fixedSlivers{
			{Name: "s3", Slice: "exp-mesh", ID: 3, State: "running", PID: 4242},
			{Name: "s4", Slice: "exp-mesh", ID: 4, State: "running", PID: 4343, MemoryLimitBytes: 1 << 26},
			{Name: "s5", ID: 5, State: "stopped"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	doc := s.Sample(context.Background(), time.Unix(1764097485, 123e6), 7, nil)
	for k := range doc.Collectors {
		doc.Collectors[k] = CollectorStatus{Error: doc.Collectors[k].Error} // durations vary
	}
	got, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := "testdata/fixture-document.json"
	if *update {
		os.WriteFile(golden, append(got, '\n'), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestFixtureDocument -update)", err)
	}
	if strings.TrimSpace(string(want)) != strings.TrimSpace(string(got)) {
		t.Errorf("document differs from %s (rerun with -update if intended):\n%s", golden, got)
	}
}

type fixedSlivers []Sliver

func (f fixedSlivers) Slivers(context.Context) ([]Sliver, error) { return f, nil }
