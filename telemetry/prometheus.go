package telemetry

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// promWriter writes the text exposition format (0.0.4). A family's TYPE
// line (and, for nodekeeper_* families, its HELP line) is written before
// its first sample; callers write each family's samples together.
// node_* and wifi_* families have no HELP, as in prometheus-node-exporter-lua.
type promWriter struct {
	b    []byte
	last string // the family of the previous sample
}

// sample writes one sample of the family name (its HELP and TYPE lines
// first when the previous sample was of another family); labels are
// name, value pairs.
func (w *promWriter) sample(name, typ, help string, v float64, labels ...string) {
	if name != w.last {
		w.last = name
		if help != "" {
			w.b = append(w.b, "# HELP "+name+" "+help+"\n"...)
		}
		w.b = append(w.b, "# TYPE "+name+" "+typ+"\n"...)
	}
	b := append(w.b, name...)
	sep := "{"
	for i := 0; i+1 < len(labels); i += 2 {
		b = append(b, sep+labels[i]+`="`+promLabelEscaper.Replace(labels[i+1])+`"`...)
		sep = ","
	}
	if sep == "," {
		b = append(b, '}')
	}
	w.b = append(appendNum(append(b, ' '), v), '\n')
}

// table writes, for each family prefix+names[j]+suffix, one sample per
// entity i: v[i*len(names)+j] labelled labels[i] (NaN: left out), with
// helps[j] as its HELP (none when helps is nil). A family ending in _total
// is a counter, the others are gauges.
func (w *promWriter) table(prefix string, names []string, suffix string, v []float64, labels [][]string, helps []string) {
	k := len(names)
	for j, n := range names {
		name := prefix + n + suffix
		typ, help := promGauge, ""
		if strings.HasSuffix(name, "_total") {
			typ = promCounter
		}
		if helps != nil {
			help = helps[j]
		}
		for i, l := range labels {
			if x := v[i*k+j]; !math.IsNaN(x) {
				w.sample(name, typ, help, x, l...)
			}
		}
	}
}

var promLabelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

const (
	promGauge   = "gauge"
	promCounter = "counter"
)

// AppendPrometheus appends the Prometheus text exposition (format 0.0.4)
// of the node to b, as a drop-in for OpenWrt's prometheus-node-exporter-lua:
// its metric names, types and label sets (docs/telemetry.md). The node_*
// families are read from /proc and /sys under root ("" for the real ones)
// now, as the exporter does at each scrape; wifi_* and nodekeeper_* come
// from doc, the latest sample; node_time_seconds is now. The Prometheus listener
// (Config.PrometheusListen) serves it on /metrics.
func AppendPrometheus(b []byte, doc *Document, root string, now time.Time) []byte {
	w := &promWriter{b: b}
	appendNodeMetrics(w, root)
	w.sample("node_time_seconds", promGauge, "", float64(now.Unix()))
	if wf := doc.Wifi; wf != nil {
		appendWifiMetrics(w, wf)
	}
	appendAgentMetrics(w, doc)
	for _, n := range sortedKeys(doc.Collectors) {
		w.sample("node_scrape_collector_duration_seconds", promGauge, "", doc.Collectors[n].DurationSeconds, "collector", n)
	}
	for _, n := range sortedKeys(doc.Collectors) {
		ok := 1.0
		if doc.Collectors[n].Error != "" {
			ok = 0
		}
		w.sample("node_scrape_collector_success", promGauge, "", ok, "collector", n)
	}
	return w.b
}

// appendWifiMetrics writes the families of the exporter's wifi and
// wifi_stations collectors. A radio's signal, bitrate and quality are
// those of its stations on average, as iwinfo reports them for an access
// point; device is the phy (the exporter has the UCI radio's name there)
// and country is left empty (nl80211 has it per phy, not read here).
func appendWifiMetrics(w *promWriter, wf *Wifi) {
	// Per radio, in the order of wifiNetworkFamilies.
	rv := make([]float64, 4*len(wf.Radios))
	var labels [][]string
	for i := range wf.Radios {
		r := &wf.Radios[i]
		n, sig, rate := 0, 0, 0.0
		for j := range wf.Stations {
			if s := &wf.Stations[j]; s.Ifname == r.Name {
				n++
				sig += s.SignalDBm
				rate += s.RxBitrateMbps
			}
		}
		v := rv[4*i : 4*i+4]
		v[3] = -255 // the exporter's signal when iwinfo has none
		if n > 0 {
			// iwinfo's quality is signal + 110 out of 70; the exporter
			// scales it to 0-100.
			v[0] = float64(100 * min(max(sig/n+110, 0), 70) / 70)
			v[1] = rate * 1000 / float64(n)
			v[3] = float64(sig / n)
		}
		if r.RadioNoise != nil {
			v[2] = float64(r.NoiseDBm)
		}
		labels = append(labels, []string{"ifname", r.Name, "device", r.Phy, "ssid", r.SSID, "bssid", r.MAC,
			"mode", iwinfoMode(r.Mode), "channel", strconv.Itoa(r.Channel), "frequency", strconv.Itoa(r.FrequencyMHz), "country", ""})
	}
	w.table("wifi_network_", wifiNetworkFamilies, "", rv, labels, nil)
	for _, r := range wf.Radios {
		w.sample("wifi_stations", promGauge, "", float64(r.Stations), "ifname", r.Name)
	}
	// Per station, in the order of wifiStationFamilies; NaN: not reported.
	sv := make([]float64, 0, len(wifiStationFamilies)*len(wf.Stations))
	labels = labels[:0]
	for i := range wf.Stations {
		s := &wf.Stations[i]
		et := math.NaN()
		if s.StationThroughput != nil {
			et = s.ExpectedThroughputMbps * 1000
		}
		sv = append(sv, float64(s.SignalDBm), s.InactiveSeconds*1000, et, s.TxBitrateMbps*1000, s.RxBitrateMbps*1000,
			float64(s.TxPacketsTotal), float64(s.RxPacketsTotal), float64(s.TxBytesTotal), float64(s.RxBytesTotal))
		labels = append(labels, []string{"ifname", s.Ifname, "mac", s.MAC})
	}
	w.table("wifi_station_", wifiStationFamilies[:], "", sv, labels, nil)
}

// wifiStationFamilies are the exporter's wifi_stations families (after
// "wifi_station_").
var wifiStationFamilies = [...]string{
	"signal_dbm", "inactive_milliseconds", "expected_throughput_kilobits_per_second", "transmit_kilobits_per_second",
	"receive_kilobits_per_second", "transmit_packets_total", "receive_packets_total", "transmit_bytes_total", "receive_bytes_total",
}

// iwinfoModes are nodekeeper's interface modes, each followed by its name
// in iwinfo (the exporter's mode label).
var iwinfoModes = [...]string{"ap", "Master", "sta", "Client", "adhoc", "Ad-Hoc", "mesh", "Mesh Point", "monitor", "Monitor",
	"ap_vlan", "Master (VLAN)", "wds", "WDS"}

// iwinfoMode names an interface mode as iwinfo does.
func iwinfoMode(m string) string {
	for i := 0; i < len(iwinfoModes); i += 2 {
		if iwinfoModes[i] == m {
			return iwinfoModes[i+1]
		}
	}
	return "Unknown"
}

// appendAgentMetrics writes nodekeeper's own families: the sample, the
// CPU share, slivers and the agent. They follow Prometheus' conventions
// (promtool check metrics has nothing to say about them).
func appendAgentMetrics(w *promWriter, doc *Document) {
	w.sample("nodekeeper_sample_seq", promGauge, "Sequence number of the sample.", float64(doc.Seq))
	if s := doc.System; s != nil {
		busy := math.NaN()
		if s.CPU.CPUPercent != nil {
			busy = s.CPU.BusyPercent
		}
		w.table("nodekeeper_", nkSystemFamilies[0], "", []float64{float64(s.CPU.Count), busy, float64(s.Processes.Total)},
			[][]string{nil}, nkSystemFamilies[1])
	}
	var v []float64
	var labels [][]string
	for i := range doc.Slivers {
		s := &doc.Slivers[i]
		v = append(v, s.CPUSecondsTotal, float64(s.MemoryBytes), float64(s.MemoryLimitBytes), float64(s.Pids),
			float64(s.RxBytesTotal), float64(s.TxBytesTotal))
		labels = append(labels, []string{"sliver", s.Name, "slice", s.Slice})
	}
	w.table("nodekeeper_sliver_", nkSliverFamilies[0], "", v, labels, nkSliverFamilies[1])
	if a := doc.Agent; a != nil {
		w.table("nodekeeper_", nkAgentFamilies[0], "", []float64{float64(a.RSSBytes), float64(a.Goroutines), float64(a.SpoolDepth),
			float64(a.PublishedTotal), float64(a.DroppedTotal), float64(a.Connected)}, [][]string{nil}, nkAgentFamilies[1])
	}
}

// nodekeeper's own families: names (after the prefix) and helps.
var (
	nkSystemFamilies = [2][]string{{"cpus", "cpu_busy_percent", "processes"},
		{"Number of CPUs.", "CPU busy share since the previous sample (since boot in the first).", "Number of scheduling entities."}}
	nkSliverFamilies = [2][]string{{"cpu_seconds_total", "memory_bytes", "memory_limit_bytes", "pids", "receive_bytes_total", "transmit_bytes_total"},
		{"CPU time of the sliver's cgroup.", "Memory use of the sliver's cgroup.", "Memory limit of the sliver (0: none).",
			"Tasks in the sliver's cgroup.", "Bytes the sliver received.", "Bytes the sliver sent."}}
	nkAgentFamilies = [2][]string{{"agent_rss_bytes", "agent_goroutines", "telemetry_spool_messages", "telemetry_published_total",
		"telemetry_dropped_total", "telemetry_connected"},
		{"Resident memory of the agent.", "Goroutines of the agent.", "Messages waiting in the spool.",
			"Messages the broker acknowledged.", "Messages dropped at the spool's cap.", "Whether the MQTT connection is up."}}
	wifiNetworkFamilies = []string{"quality", "bitrate", "noise_dbm", "signal_dbm"}
)

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
