package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestPrometheusScrapes: a real Prometheus (Debian's 2.42) scrapes the
// listener and stores what a node_exporter dashboard asks for: a series
// per CPU core, the exporter's quirky names, the wifi labels.
func TestPrometheusScrapes(t *testing.T) {
	prom := needCmd(t, "prometheus")
	root, err := filepath.Abs("testdata/root")
	if err != nil {
		t.Fatal(err)
	}
	s := newMetricsServer(sampleDoc)
	s.root = root
	addr := startMetricsServer(t, s)

	dir := t.TempDir()
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: [%q]\n", addr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	web := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+web)
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("prometheus log:\n%s", b)
		}
	})

	// query returns the value of a PromQL expression with a single result
	// ("" while it has none).
	query := func(q string) string {
		resp, err := http.Get("http://" + web + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var r struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if json.Unmarshal(b, &r) != nil || len(r.Data.Result) != 1 {
			return ""
		}
		v, _ := r.Data.Result[0].Value[1].(string)
		return v
	}
	waitFor(t, 2*time.Minute, "a successful scrape", func() bool { return query(`up{job="node"}`) == "1" })
	for _, tt := range []struct{ q, want string }{
		{`count(count by (cpu) (node_cpu_seconds_total{mode="idle"}))`, "2"}, // the fixture's two cores
		{`node_cpu_seconds_total{cpu="cpu1",mode="idle"}`, "105.84"},
		{`node_memory_MemTotal_bytes`, "128851968"},
		{`node_procs_running_total`, "2"},
		{`node_network_receive_bytes_total{device="eth0"}`, "123456789"},
		{`node_filesystem_readonly{mountpoint="/overlay",fstype="jffs2",device="/dev/mtdblock6"}`, "0"},
		{`node_thermal_zone_temp{zone="0",policy="step_wise"}`, "51.2"},
		{`wifi_network_noise_dbm{ifname="wlan0",mode="Master",channel="36"}`, "-95"},
		{`wifi_station_transmit_packets_total{mac="aa:bb:cc:dd:ee:ff"}`, "0"},
		{`nodekeeper_sample_seq`, "4711"},
	} {
		if got := query(tt.q); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.q, got, tt.want)
		}
	}
}
