package telemetry

import (
	"slices"
	"strconv"
	"strings"
)

// promWriter writes families: a HELP and TYPE line the first time a name is
// used, then samples.
type promWriter struct {
	b    []byte
	seen map[string]bool
}

func (w *promWriter) sample(name, typ, help string, v float64, labels ...string) {
	if !w.seen[name] {
		w.seen[name] = true
		w.b = append(w.b, "# HELP "...)
		w.b = append(w.b, name...)
		w.b = append(w.b, ' ')
		w.b = append(w.b, help...)
		w.b = append(w.b, "\n# TYPE "...)
		w.b = append(w.b, name...)
		w.b = append(w.b, ' ')
		w.b = append(w.b, typ...)
		w.b = append(w.b, '\n')
	}
	w.b = append(w.b, name...)
	if len(labels) > 0 {
		w.b = append(w.b, '{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = append(w.b, labels[i]...)
			w.b = append(w.b, `="`...)
			w.b = append(w.b, promLabelEscaper.Replace(labels[i+1])...)
			w.b = append(w.b, '"')
		}
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ' ')
	w.b = strconv.AppendFloat(w.b, v, 'g', -1, 64)
	w.b = append(w.b, '\n')
}

var promLabelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// AppendPrometheus appends the Prometheus text exposition (format 0.0.4) of
// doc to b, with the metric names of prometheus-node-exporter-lua so that
// existing dashboards keep working; the Prometheus listener
// (Config.PrometheusListen) serves it on /metrics.
// Samples of one family are written together, as the format requires.
func AppendPrometheus(b []byte, doc *Document) []byte {
	w := &promWriter{b: b, seen: map[string]bool{}}
	const g, c = "gauge", "counter"
	w.sample("nodekeeper_sample_seq", g, "Sequence number of the sample.", float64(doc.Seq))
	w.sample("node_time_seconds", g, "System time in seconds since epoch (1970).", doc.TS)
	if s := doc.System; s != nil {
		w.sample("node_boot_time_seconds", g, "Node boot time, in unixtime.", round3(doc.TS-s.UptimeSeconds))
		w.sample("node_load1", g, "1m load average.", s.Load[0])
		w.sample("node_load5", g, "5m load average.", s.Load[1])
		w.sample("node_load15", g, "15m load average.", s.Load[2])
		cpu := &s.CPU
		for _, m := range []struct {
			mode string
			v    float64
		}{{"user", cpu.UserSecondsTotal}, {"nice", cpu.NiceSecondsTotal}, {"system", cpu.SystemSecondsTotal},
			{"idle", cpu.IdleSecondsTotal}, {"iowait", cpu.IowaitSecondsTotal}, {"irq", cpu.IRQSecondsTotal},
			{"softirq", cpu.SoftIRQSeconds}, {"steal", cpu.StealSecondsTotal}} {
			w.sample("node_cpu_seconds_total", c, "Seconds the CPUs spent in each mode (all CPUs together).", m.v, "mode", m.mode)
		}
		w.sample("nodekeeper_cpu_count", g, "Number of CPUs.", float64(cpu.Count))
		if cpu.CPUPercent != nil {
			w.sample("nodekeeper_cpu_busy_percent", g, "CPU busy share since the previous sample.", cpu.BusyPercent)
		}
		m := &s.Memory
		w.sample("node_memory_MemTotal_bytes", g, "Memory information field MemTotal_bytes.", float64(m.TotalBytes))
		w.sample("node_memory_MemFree_bytes", g, "Memory information field MemFree_bytes.", float64(m.FreeBytes))
		w.sample("node_memory_MemAvailable_bytes", g, "Memory information field MemAvailable_bytes.", float64(m.AvailableBytes))
		w.sample("node_memory_Cached_bytes", g, "Memory information field Cached_bytes.", float64(m.CachedBytes))
		w.sample("node_memory_Buffers_bytes", g, "Memory information field Buffers_bytes.", float64(m.BuffersBytes))
		w.sample("node_procs_running", g, "Number of processes in runnable state.", float64(s.Processes.Running))
		w.sample("nodekeeper_procs_total", g, "Number of scheduling entities.", float64(s.Processes.Total))
		w.sample("node_entropy_available_bits", g, "Bits of available entropy.", float64(s.EntropyBits))
		for _, t := range s.Temperatures {
			w.sample("node_thermal_zone_temp", g, "Zone temperature in Celsius.", t.Celsius, "type", t.Name)
		}
		for _, f := range s.Filesystems {
			w.sample("node_filesystem_size_bytes", g, "Filesystem size in bytes.", float64(f.SizeBytes), "mountpoint", f.Mount)
		}
		for _, f := range s.Filesystems {
			w.sample("node_filesystem_avail_bytes", g, "Filesystem space available to non-root users in bytes.", float64(f.FreeBytes), "mountpoint", f.Mount)
		}
	}
	ifs := doc.Interfaces
	for _, fam := range []struct {
		name, help string
		v          func(*Interface) uint64
	}{
		{"node_network_receive_bytes_total", "Network device statistic receive_bytes.", func(i *Interface) uint64 { return i.RxBytesTotal }},
		{"node_network_transmit_bytes_total", "Network device statistic transmit_bytes.", func(i *Interface) uint64 { return i.TxBytesTotal }},
		{"node_network_receive_packets_total", "Network device statistic receive_packets.", func(i *Interface) uint64 { return i.RxPacketsTotal }},
		{"node_network_transmit_packets_total", "Network device statistic transmit_packets.", func(i *Interface) uint64 { return i.TxPacketsTotal }},
		{"node_network_receive_errs_total", "Network device statistic receive_errs.", func(i *Interface) uint64 { return i.RxErrorsTotal }},
		{"node_network_transmit_errs_total", "Network device statistic transmit_errs.", func(i *Interface) uint64 { return i.TxErrorsTotal }},
		{"node_network_receive_drop_total", "Network device statistic receive_drop.", func(i *Interface) uint64 { return i.RxDroppedTotal }},
		{"node_network_transmit_drop_total", "Network device statistic transmit_drop.", func(i *Interface) uint64 { return i.TxDroppedTotal }},
	} {
		for i := range ifs {
			w.sample(fam.name, c, fam.help, float64(fam.v(&ifs[i])), "device", ifs[i].Name)
		}
	}
	for i := range ifs {
		w.sample("node_network_up", g, "Whether the link is up and running.", float64(ifs[i].Up), "device", ifs[i].Name)
	}
	for i := range ifs {
		w.sample("node_network_mtu_bytes", g, "Network device MTU.", float64(ifs[i].MTU), "device", ifs[i].Name)
	}
	if wf := doc.Wifi; wf != nil {
		for _, r := range wf.Radios {
			w.sample("wifi_radio_channel", g, "Channel of the wifi interface.", float64(r.Channel), "ifname", r.Name, "phy", r.Phy)
		}
		for _, r := range wf.Radios {
			if r.RadioNoise != nil {
				w.sample("wifi_network_noise_dbm", g, "Noise floor of the channel in use.", float64(r.NoiseDBm), "ifname", r.Name, "ssid", r.SSID, "frequency", strconv.Itoa(r.FrequencyMHz))
			}
		}
		for _, r := range wf.Radios {
			w.sample("wifi_stations", g, "Stations associated with the interface.", float64(r.Stations), "ifname", r.Name)
		}
		for _, fam := range []struct {
			name, typ, help string
			v               func(*Station) float64
		}{
			{"wifi_station_signal_dbm", g, "Signal of the last received frame.", func(s *Station) float64 { return float64(s.SignalDBm) }},
			{"wifi_station_inactive_milliseconds", g, "Time since the station was last active.", func(s *Station) float64 { return s.InactiveSeconds * 1000 }},
			{"wifi_station_transmit_kilobits_per_second", g, "Transmit bitrate to the station.", func(s *Station) float64 { return s.TxBitrateMbps * 1000 }},
			{"wifi_station_receive_kilobits_per_second", g, "Receive bitrate from the station.", func(s *Station) float64 { return s.RxBitrateMbps * 1000 }},
			{"wifi_station_tx_packets_total", c, "Packets sent to the station.", func(s *Station) float64 { return float64(s.TxPacketsTotal) }},
			{"wifi_station_rx_packets_total", c, "Packets received from the station.", func(s *Station) float64 { return float64(s.RxPacketsTotal) }},
			{"wifi_station_transmit_bytes_total", c, "Bytes sent to the station.", func(s *Station) float64 { return float64(s.TxBytesTotal) }},
			{"wifi_station_receive_bytes_total", c, "Bytes received from the station.", func(s *Station) float64 { return float64(s.RxBytesTotal) }},
		} {
			for i := range wf.Stations {
				s := &wf.Stations[i]
				w.sample(fam.name, fam.typ, fam.help, fam.v(s), "ifname", s.Ifname, "mac", s.MAC)
			}
		}
		for i := range wf.Stations {
			if s := &wf.Stations[i]; s.StationThroughput != nil {
				w.sample("wifi_station_expected_throughput_kilobits_per_second", g, "Throughput the rate control expects to the station.",
					s.ExpectedThroughputMbps*1000, "ifname", s.Ifname, "mac", s.MAC)
			}
		}
	}
	for _, fam := range []struct {
		name, typ, help string
		v               func(*SliverStats) float64
	}{
		{"nodekeeper_sliver_cpu_seconds_total", c, "CPU time of the sliver's cgroup.", func(s *SliverStats) float64 { return s.CPUSecondsTotal }},
		{"nodekeeper_sliver_memory_bytes", g, "Memory use of the sliver's cgroup.", func(s *SliverStats) float64 { return float64(s.MemoryBytes) }},
		{"nodekeeper_sliver_memory_limit_bytes", g, "Memory limit of the sliver (0: none).", func(s *SliverStats) float64 { return float64(s.MemoryLimitBytes) }},
		{"nodekeeper_sliver_pids", g, "Tasks in the sliver's cgroup.", func(s *SliverStats) float64 { return float64(s.Pids) }},
		{"nodekeeper_sliver_receive_bytes_total", c, "Bytes the sliver received.", func(s *SliverStats) float64 { return float64(s.RxBytesTotal) }},
		{"nodekeeper_sliver_transmit_bytes_total", c, "Bytes the sliver sent.", func(s *SliverStats) float64 { return float64(s.TxBytesTotal) }},
	} {
		for i := range doc.Slivers {
			s := &doc.Slivers[i]
			w.sample(fam.name, fam.typ, fam.help, fam.v(s), "sliver", s.Name, "slice", s.Slice)
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
	for _, n := range sortedKeys(doc.Collectors) {
		st := doc.Collectors[n]
		w.sample("node_scrape_collector_duration_seconds", g, "Duration of a collector.", st.DurationSeconds, "collector", n)
	}
	for _, n := range sortedKeys(doc.Collectors) {
		ok := 1.0
		if doc.Collectors[n].Error != "" {
			ok = 0
		}
		w.sample("node_scrape_collector_success", g, "Whether a collector succeeded.", ok, "collector", n)
	}
	return w.b
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
