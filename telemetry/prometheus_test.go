package telemetry

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixtureScrape is the exposition of sampleDoc over the captured /proc and
// /sys files of testdata/root.
func fixtureScrape(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("testdata/root")
	if err != nil {
		t.Fatal(err)
	}
	return string(AppendPrometheus(nil, sampleDoc(), root, time.Unix(1764097485, 0)))
}

func TestPrometheusExposition(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("not Linux: the node_* families are read from /proc (CI runs on Linux, where this test always runs)")
	}
	text := fixtureScrape(t)
	checkExposition(t, text)
	for _, want := range []string{
		"node_load1 0.42",
		"node_time_seconds 1764097485",
		"node_boot_time_seconds 1764095201",
		`node_cpu_seconds_total{cpu="cpu0",mode="user"} 16.88`,
		`node_cpu_seconds_total{cpu="cpu1",mode="idle"} 105.84`,
		`node_cpu_seconds_total{cpu="cpu1",mode="guest_nice"} 0`,
		"node_context_switches_total 2131451",
		"node_intr_total 1161049",
		"node_forks_total 5123",
		"node_procs_running_total 2",
		"node_procs_blocked_total 0",
		"node_memory_MemTotal_bytes 128851968",
		"node_memory_SwapCached_bytes 0",
		"node_nf_conntrack_entries 42",
		"node_nf_conntrack_entries_limit 16384",
		"node_entropy_pool_size_bits 256",
		"node_filefd_allocated 1184",
		"node_filefd_maximum 12603",
		`node_network_receive_bytes_total{device="eth0"} 123456789`,
		`node_network_receive_multicast_total{device="br-lan"} 77`,
		`node_network_transmit_colls_total{device="eth0"} 10`,
		`node_network_transmit_carrier_total{device="eth0"} 11`,
		`node_network_info{device="eth0",address="02:fc:00:00:00:01",broadcast="ff:ff:ff:ff:ff:ff",duplex="full",ifalias="",operstate="up"} 1`,
		`node_network_info{device="lo",address="00:00:00:00:00:00",broadcast="00:00:00:00:00:00",ifalias="",operstate="unknown"} 1`,
		`node_network_flags{device="eth0"} 4099`,
		`node_network_speed_bytes{device="eth0"} 125000000`,
		`node_network_carrier_changes_total{device="eth0"} 3`,
		`node_network_mtu_bytes{device="lo"} 65536`,
		`node_thermal_zone_temp{zone="0",type="cpu-thermal",policy="step_wise",mode="enabled",passive="0"} 51.2`,
		`node_filesystem_readonly{device="/dev/mtdblock6",fstype="jffs2",mountpoint="/overlay"} `,
		`node_filesystem_files{device="tmpfs",fstype="tmpfs",mountpoint="/tmp"} `,
		`wifi_network_noise_dbm{ifname="wlan0",device="phy0",ssid="guifi \"x\"",bssid="",mode="Master",channel="36",frequency="5180",country=""} -95`,
		`wifi_network_signal_dbm{ifname="wlan0",device="phy0",ssid="guifi \"x\"",bssid="",mode="Master",channel="36",frequency="5180",country=""} -61`,
		`wifi_network_quality{ifname="wlan0",device="phy0",ssid="guifi \"x\"",bssid="",mode="Master",channel="36",frequency="5180",country=""} 70`,
		`wifi_stations{ifname="wlan0"} 1`,
		`wifi_station_signal_dbm{ifname="wlan0",mac="aa:bb:cc:dd:ee:ff"} -61`,
		`wifi_station_inactive_milliseconds{ifname="wlan0",mac="aa:bb:cc:dd:ee:ff"} 10`,
		`wifi_station_expected_throughput_kilobits_per_second{ifname="wlan0",mac="aa:bb:cc:dd:ee:ff"} 200000`,
		`wifi_station_receive_bytes_total{ifname="wlan0",mac="aa:bb:cc:dd:ee:ff"} 1`,
		`node_scrape_collector_success{collector="wifi"} 0`,
		`nodekeeper_sliver_memory_limit_bytes{sliver="s3",slice="exp-mesh"} 67108864`,
		"nodekeeper_sample_seq 4711",
		"nodekeeper_cpus 2",
	} {
		if !strings.Contains(text, "\n"+want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	// What the exporter leaves out: the squashfs image, the overlay on /,
	// pseudo filesystems; thermal_zone1 (no policy) ends the zones.
	for _, absent := range []string{`mountpoint="/rom"`, `mountpoint="/"`, `mountpoint="/sys`, `mountpoint="/dev`, `zone="1"`} {
		if strings.Contains(text, absent) {
			t.Errorf("exposition has %s", absent)
		}
	}
}

// promFamily is a metric family as seen in an exposition or in the
// recording of prometheus-node-exporter-lua.
type promFamily struct {
	collector, typ string
	labels         []string // sorted label names, union over the samples
}

// promFamilies parses an exposition into its families.
func promFamilies(t *testing.T, text string) map[string]*promFamily {
	t.Helper()
	fams := map[string]*promFamily{}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if m := promComment.FindStringSubmatch(line); m != nil {
			if m[1] == "TYPE" {
				fams[m[2]] = &promFamily{typ: strings.Fields(line)[3]}
			}
			continue
		}
		m := promSample.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("bad line %q", line)
		}
		f := fams[m[1]]
		if f == nil {
			t.Fatalf("%s: no TYPE", m[1])
		}
		for _, k := range labelNames(m[2]) {
			if !slices.Contains(f.labels, k) {
				f.labels = append(f.labels, k)
			}
		}
		slices.Sort(f.labels)
	}
	return fams
}

// labelNames returns the names of a sample's {k="v",...}.
func labelNames(set string) []string {
	var names []string
	s := strings.TrimPrefix(set, "{")
	for s != "" && s != "}" {
		k, rest, _ := strings.Cut(s, `="`)
		names = append(names, k)
		i := 0
		for i < len(rest) && rest[i] != '"' {
			if rest[i] == '\\' {
				i++
			}
			i++
		}
		s = strings.TrimPrefix(rest[i+1:], ",")
	}
	return names
}

// luaReference reads testdata/prom-lua-reference/names-labels.tsv: the
// families of prometheus-node-exporter-lua (a copy of
// ../shared/prom-lua-reference, recorded from the exporter and its source).
func luaReference(t *testing.T) map[string]*promFamily {
	t.Helper()
	f, err := os.Open("testdata/prom-lua-reference/names-labels.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ref := map[string]*promFamily{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 4 {
			t.Fatalf("bad reference row %q", sc.Text())
		}
		var labels []string
		if c[3] != "-" {
			labels = strings.Split(c[3], ",")
		}
		ref[c[1]] = &promFamily{collector: c[0], typ: c[2], labels: labels}
	}
	if len(ref) < 600 {
		t.Fatalf("reference has %d families, want its 620", len(ref))
	}
	return ref
}

// luaCollectors are the exporter's collectors nodekeeper replaces.
var luaCollectors = []string{"(main script)", "conntrack.lua", "cpu.lua", "entropy.lua", "filefd.lua", "filesystem.lua",
	"loadavg.lua", "meminfo.lua", "netclass.lua", "netdev.lua", "thermal.lua", "time.lua", "uname.lua", "wifi.lua",
	"wifi_stations.lua"}

// TestPrometheusMatchesLuaExporter: a scrape is a drop-in for
// prometheus-node-exporter-lua's collectors that nodekeeper replaces: every
// family of those collectors is there, with the exporter's name, type and
// label names (its quirks included: camelCase meminfo, _total on gauges),
// and every family outside nodekeeper_* is one of the exporter's.
func TestPrometheusMatchesLuaExporter(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("not Linux: the node_* families are read from /proc (CI runs on Linux, where this test always runs)")
	}
	ref := luaReference(t)
	check := func(t *testing.T, fams map[string]*promFamily, exact bool) {
		for name, f := range fams {
			if strings.HasPrefix(name, "nodekeeper_") {
				continue
			}
			r := ref[name]
			if r == nil {
				if !exact && strings.HasPrefix(name, "node_memory_") && f.typ == "gauge" && len(f.labels) == 0 {
					continue // a meminfo field of this kernel the recording's had not
				}
				t.Errorf("%s: not a family of prometheus-node-exporter-lua", name)
				continue
			}
			if !slices.Contains(luaCollectors, r.collector) {
				t.Errorf("%s: of the exporter's %s, which nodekeeper does not replace", name, r.collector)
			}
			if f.typ != r.typ {
				t.Errorf("%s: type %s, the exporter's is %s", name, f.typ, r.typ)
			}
			// Labels the exporter leaves out when unreadable (netclass's
			// duplex, thermal's mode and passive) may be missing on a real
			// machine; in the fixture every one is readable.
			if exact && !slices.Equal(f.labels, r.labels) || !exact && !isSubset(f.labels, r.labels) {
				t.Errorf("%s: labels %v, the exporter's are %v", name, f.labels, r.labels)
			}
		}
	}
	t.Run("fixture", func(t *testing.T) {
		fams := promFamilies(t, fixtureScrape(t))
		check(t, fams, true)
		for name, r := range ref {
			if slices.Contains(luaCollectors, r.collector) && fams[name] == nil {
				t.Errorf("%s (%s, %s %v) missing", name, r.collector, r.typ, r.labels)
			}
		}
	})
	t.Run("this machine", func(t *testing.T) {
		doc := sampleDoc()
		text := string(AppendPrometheus(nil, doc, "", time.Now()))
		checkExposition(t, text)
		fams := promFamilies(t, text)
		check(t, fams, false)
		for _, name := range []string{"node_cpu_seconds_total", "node_memory_MemTotal_bytes", "node_network_receive_bytes_total",
			"node_uname_info", "node_filefd_allocated", "node_entropy_available_bits", "node_network_info"} {
			if fams[name] == nil {
				t.Errorf("this machine's scrape lacks %s", name)
			}
		}
		// 10 modes per CPU.
		if n := strings.Count(text, `node_cpu_seconds_total{cpu="cpu`) / 10; n < runtime.NumCPU() {
			t.Errorf("node_cpu_seconds_total for %d CPUs, runtime.NumCPU() = %d", n, runtime.NumCPU())
		}
	})
}

func isSubset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// nodekeeperLines keeps the lines of nodekeeper's own families.
func nodekeeperLines(text string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		if strings.HasPrefix(line, "nodekeeper_") || strings.HasPrefix(line, "# HELP nodekeeper_") || strings.HasPrefix(line, "# TYPE nodekeeper_") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// TestPromtoolCheckMetrics: Prometheus' own linter (Debian's prometheus
// package) has nothing to say about nodekeeper's own families. The
// node_* and wifi_* ones keep the exporter's names, which it would flag.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := needCmd(t, "promtool")
	run := func(text string) (string, error) {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(text)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	doc := sampleDoc()
	ours := nodekeeperLines(string(AppendPrometheus(nil, doc, t.TempDir(), time.Unix(1764097485, 0))))
	if strings.Count(ours, "# TYPE ") < 15 {
		t.Fatalf("only %d nodekeeper families:\n%s", strings.Count(ours, "# TYPE "), ours)
	}
	if out, err := run(ours); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("promtool check metrics: %v\n%s\non:\n%s", err, out, ours)
	}
	// The check can fail: the names this change retired are flagged.
	for _, bad := range []string{
		"# HELP nodekeeper_cpu_count Number of CPUs.\n# TYPE nodekeeper_cpu_count gauge\nnodekeeper_cpu_count 2\n",
		"# HELP nodekeeper_procs_total Processes.\n# TYPE nodekeeper_procs_total gauge\nnodekeeper_procs_total 63\n",
	} {
		if out, err := run(bad); err == nil && strings.TrimSpace(out) == "" {
			t.Errorf("promtool accepted %q", bad)
		}
	}
}
