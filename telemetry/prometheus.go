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
// entity i: v[i*len(names)+j] labelled labels[i] (NaN: left out). A family
// ending in _total is a counter, the others are gauges.
func (w *promWriter) table(prefix string, names []string, suffix string, v []float64, labels [][]string) {
	k := len(names)
	for j, n := range names {
		name := prefix + n + suffix
		typ := promGauge
		if strings.HasSuffix(name, "_total") {
			typ = promCounter
		}
		for i, l := range labels {
			if x := v[i*k+j]; !math.IsNaN(x) {
				w.sample(name, typ, "", x, l...)
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
	names := sortedKeys(doc.Collectors)
	for _, n := range names {
		w.sample("node_scrape_collector_duration_seconds", promGauge, "", doc.Collectors[n].DurationSeconds, "collector", n)
	}
	for _, n := range names {
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
	w.table("wifi_network_", wifiNetworkFamilies, "", rv, labels)
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
	w.table("wifi_station_", wifiStationFamilies, "", sv, labels)
}

// wifiStationFamilies are the exporter's wifi_stations families (after
// "wifi_station_").
var wifiStationFamilies = []string{
	"signal_dbm", "inactive_milliseconds", "expected_throughput_kilobits_per_second", "transmit_kilobits_per_second",
	"receive_kilobits_per_second", "transmit_packets_total", "receive_packets_total", "transmit_bytes_total", "receive_bytes_total",
}

// iwinfoModes are nodekeeper's interface modes, each followed by its name
// in iwinfo (the exporter's mode label).
var iwinfoModes = []string{"ap", "Master", "sta", "Client", "adhoc", "Ad-Hoc", "mesh", "Mesh Point", "monitor", "Monitor",
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
	const g, c = promGauge, promCounter
	w.sample("nodekeeper_sample_seq", g, "Sequence number of the sample.", float64(doc.Seq))
	if s := doc.System; s != nil {
		w.sample("nodekeeper_cpus", g, "Number of CPUs.", float64(s.CPU.Count))
		if s.CPU.CPUPercent != nil {
			w.sample("nodekeeper_cpu_busy_percent", g, "CPU busy share since the previous sample (since boot in the first).", s.CPU.BusyPercent)
		}
		w.sample("nodekeeper_processes", g, "Number of scheduling entities.", float64(s.Processes.Total))
	}
	for f := 0; f < len(nkSliverFamilies); f += 2 {
		name := "nodekeeper_sliver_" + nkSliverFamilies[f]
		typ := g
		if strings.HasSuffix(name, "_total") {
			typ = c
		}
		for i := range doc.Slivers {
			s := &doc.Slivers[i]
			v := s.CPUSecondsTotal
			switch f / 2 {
			case 1:
				v = float64(s.MemoryBytes)
			case 2:
				v = float64(s.MemoryLimitBytes)
			case 3:
				v = float64(s.Pids)
			case 4:
				v = float64(s.RxBytesTotal)
			case 5:
				v = float64(s.TxBytesTotal)
			}
			w.sample(name, typ, nkSliverFamilies[f+1], v, "sliver", s.Name, "slice", s.Slice)
		}
	}
	if a := doc.Agent; a != nil {
		w.sample("nodekeeper_agent_rss_bytes", g, "Resident memory of the agent.", float64(a.RSSBytes))
		w.sample("nodekeeper_agent_goroutines", g, "Goroutines of the agent.", float64(a.Goroutines))
		w.sample("nodekeeper_telemetry_spool_messages", g, "Messages waiting in the spool.", float64(a.SpoolDepth))
		w.sample("nodekeeper_telemetry_published_total", c, "Messages the broker acknowledged.", float64(a.PublishedTotal))
		w.sample("nodekeeper_telemetry_dropped_total", c, "Messages dropped at the spool's cap.", float64(a.DroppedTotal))
		w.sample("nodekeeper_telemetry_connected", g, "Whether the MQTT connection is up.", float64(a.Connected))
	}
}

// nkSliverFamilies are the sliver families (after nodekeeper_sliver_),
// each followed by its help.
var nkSliverFamilies = []string{
	"cpu_seconds_total", "CPU time of the sliver's cgroup.",
	"memory_bytes", "Memory use of the sliver's cgroup.",
	"memory_limit_bytes", "Memory limit of the sliver (0: none).",
	"pids", "Tasks in the sliver's cgroup.",
	"receive_bytes_total", "Bytes the sliver received.",
	"transmit_bytes_total", "Bytes the sliver sent.",
}

// wifiNetworkFamilies are the exporter's wifi families (after
// "wifi_network_").
var wifiNetworkFamilies = []string{"quality", "bitrate", "noise_dbm", "signal_dbm"}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
