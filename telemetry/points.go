package telemetry

import (
	"math"
	"strings"
)

// A point is one flat entity of a sample: what one JSON message carries and
// one influx line holds. Points are what the wire encoders share.
type point struct {
	group       string      // the collector that made it
	topic       string      // under <prefix>/<node>/telemetry/
	measurement string      // influx measurement
	tags        [][2]string // labels of the entity (device=eth0)
	strs        [][2]string // string fields (JSON only)
	nums        []numField
}

// numField is one number of a point. Its type is fixed by the call that
// adds it (num: float; inum, unum: integer), never by its value, so a field
// keeps its type from sample to sample (InfluxDB refuses a change).
type numField struct {
	key   string
	v     float64
	i     int64
	isInt bool
}

// pointArena keeps a publisher's points and their numbers from one cycle
// to the next: each cycle's points are garbage once encoded, and making
// them anew was a third of what a cycle allocated. A nil arena allocates.
type pointArena struct {
	ps   []point
	nums []numField
	used int
}

// newPoint makes a point with room for nums numbers (more grow its slice
// past the arena's).
func (a *pointArena) newPoint(group, topic, measurement string, nums int) point {
	p := point{group: group, topic: topic, measurement: measurement}
	if a == nil {
		p.nums = make([]numField, 0, nums)
		return p
	}
	if a.used+nums > len(a.nums) {
		a.nums = make([]numField, max(2*len(a.nums), 256, nums))
		a.used = 0
	}
	p.nums = a.nums[a.used : a.used : a.used+nums]
	a.used += nums
	return p
}

func (p *point) num(k string, v float64) { p.nums = append(p.nums, numField{key: k, v: v}) }
func (p *point) unum(k string, v uint64) { p.inum(k, int64(min(v, math.MaxInt64))) }
func (p *point) inum(k string, v int64) {
	p.nums = append(p.nums, numField{key: k, i: v, isInt: true})
}
func (p *point) str(k, v string) { p.strs = append(p.strs, [2]string{k, v}) }
func (p *point) tag(k, v string) { p.tags = append(p.tags, [2]string{k, v}) }

// topicSafe makes a name usable as one MQTT topic level: "/", "+", "#" and
// spaces become "_"; an empty name becomes "_".
func topicSafe(s string) string {
	s = strings.Trim(s, "/")
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '/', '+', '#', ' ', 0:
			return '_'
		}
		return r
	}, s)
}

// points turns the groups of doc named in groups into flat points. Each
// group yields one point on its own topic; list groups add a point per
// entity on a topic below it.
func points(doc *Document, groups []string) []point { return pointsIn(nil, doc, groups) }

// pointsIn is points with the publisher's arena: the points are valid until
// its next call.
func pointsIn(a *pointArena, doc *Document, groups []string) []point {
	var ps []point
	if a != nil {
		clear(a.ps) // drop the last cycle's strings
		ps, a.used = a.ps[:0], 0
	} else {
		ps = make([]point, 0, 16) // a cycle has about 10
	}
	for _, g := range groups {
		switch g {
		case "system":
			if doc.System != nil {
				ps = systemPoints(a, ps, doc.System)
			}
		case "interfaces":
			ps = interfacePoints(a, ps, doc.Interfaces)
		case "wifi":
			if doc.Wifi != nil {
				ps = wifiPoints(a, ps, doc.Wifi)
			}
		case "slivers":
			ps = sliverPoints(a, ps, doc.Slivers)
		case "agent":
			if doc.Agent != nil {
				ps = agentPoints(a, ps, doc.Agent)
			}
		}
	}
	if a != nil {
		a.ps = ps
	}
	return ps
}

func systemPoints(a *pointArena, ps []point, s *System) []point {
	p := a.newPoint("system", "system", "system", 22)
	p.num("uptime_seconds", s.UptimeSeconds)
	p.num("load1", s.Load[0])
	p.num("load5", s.Load[1])
	p.num("load15", s.Load[2])
	c := &s.CPU
	p.inum("cpu_count", int64(c.Count))
	if c.CPUPercent != nil {
		p.num("cpu_user_percent", c.UserPercent)
		p.num("cpu_system_percent", c.SystemPercent)
		p.num("cpu_idle_percent", c.IdlePercent)
		p.num("cpu_iowait_percent", c.IowaitPercent)
		p.num("cpu_steal_percent", c.StealPercent)
		p.num("cpu_busy_percent", c.BusyPercent)
	}
	m := &s.Memory
	p.inum("memory_total_bytes", m.TotalBytes)
	p.inum("memory_available_bytes", m.AvailableBytes)
	p.inum("memory_free_bytes", m.FreeBytes)
	p.inum("memory_cached_bytes", m.CachedBytes)
	p.num("memory_used_percent", m.UsedPercent)
	p.inum("processes_running", s.Processes.Running)
	p.inum("processes_total", s.Processes.Total)
	p.inum("entropy_bits", s.EntropyBits)
	ps = append(ps, p)
	for _, t := range s.Temperatures {
		q := a.newPoint("system", "system/temperature/"+topicSafe(t.Name), "temperature", 1)
		q.tag("sensor", t.Name)
		q.num("celsius", t.Celsius)
		ps = append(ps, q)
	}
	for _, f := range s.Filesystems {
		name := topicSafe(f.Mount)
		if f.Mount == "/" {
			name = "root"
		}
		q := a.newPoint("system", "system/filesystem/"+name, "filesystem", 4)
		q.tag("mount", f.Mount)
		q.inum("size_bytes", f.SizeBytes)
		q.inum("used_bytes", f.UsedBytes)
		q.inum("free_bytes", f.FreeBytes)
		q.num("used_percent", f.UsedPercent)
		ps = append(ps, q)
	}
	return ps
}

func interfacePoints(a *pointArena, ps []point, ifs []Interface) []point {
	up := 0
	for i := range ifs {
		up += ifs[i].Up
	}
	g := a.newPoint("interfaces", "interfaces", "interfaces", 2)
	g.inum("count", int64(len(ifs)))
	g.inum("up", int64(up))
	ps = append(ps, g)
	for i := range ifs {
		f := &ifs[i]
		p := a.newPoint("interfaces", "interfaces/"+topicSafe(f.Name), "interface", 16)
		p.tag("device", f.Name)
		p.str("state", f.State)
		if f.MAC != "" {
			p.str("mac", f.MAC)
		}
		p.inum("up", int64(f.Up))
		p.inum("mtu", int64(f.MTU))
		p.unum("rx_bytes_total", f.RxBytesTotal)
		p.unum("tx_bytes_total", f.TxBytesTotal)
		p.unum("rx_packets_total", f.RxPacketsTotal)
		p.unum("tx_packets_total", f.TxPacketsTotal)
		p.unum("rx_errors_total", f.RxErrorsTotal)
		p.unum("tx_errors_total", f.TxErrorsTotal)
		p.unum("rx_dropped_total", f.RxDroppedTotal)
		p.unum("tx_dropped_total", f.TxDroppedTotal)
		if f.LinkRates != nil {
			p.num("rx_bps", f.RxBps)
			p.num("tx_bps", f.TxBps)
			p.num("rx_pps", f.RxPps)
			p.num("tx_pps", f.TxPps)
		}
		ps = append(ps, p)
	}
	return ps
}

func wifiPoints(a *pointArena, ps []point, w *Wifi) []point {
	g := a.newPoint("wifi", "wifi", "wifi", 2)
	g.inum("radios", int64(len(w.Radios)))
	g.inum("stations", int64(len(w.Stations)))
	ps = append(ps, g)
	for i := range w.Radios {
		r := &w.Radios[i]
		p := a.newPoint("wifi", "wifi/radio/"+topicSafe(r.Name), "wifi_radio", 5)
		p.tag("ifname", r.Name)
		p.tag("phy", r.Phy)
		p.str("mode", r.Mode)
		if r.SSID != "" {
			p.str("ssid", r.SSID)
		}
		if r.MAC != "" {
			p.str("mac", r.MAC)
		}
		p.inum("frequency_mhz", int64(r.FrequencyMHz))
		p.inum("channel", int64(r.Channel))
		p.inum("stations", int64(r.Stations))
		if r.RadioNoise != nil {
			p.inum("noise_dbm", int64(r.NoiseDBm))
		}
		if r.RadioTxPower != nil {
			p.num("txpower_dbm", r.TxPowerDBm)
		}
		ps = append(ps, p)
	}
	for i := range w.Stations {
		s := &w.Stations[i]
		p := a.newPoint("wifi", "wifi/station/"+topicSafe(s.MAC), "wifi_station", 16)
		p.tag("ifname", s.Ifname)
		p.tag("mac", s.MAC)
		p.inum("signal_dbm", int64(s.SignalDBm))
		p.inum("signal_avg_dbm", int64(s.SignalAvgDBm))
		if s.RadioNoise != nil {
			p.inum("noise_dbm", int64(s.NoiseDBm))
		}
		p.num("tx_bitrate_mbps", s.TxBitrateMbps)
		p.num("rx_bitrate_mbps", s.RxBitrateMbps)
		p.unum("rx_bytes_total", s.RxBytesTotal)
		p.unum("tx_bytes_total", s.TxBytesTotal)
		p.unum("rx_packets_total", s.RxPacketsTotal)
		p.unum("tx_packets_total", s.TxPacketsTotal)
		p.unum("tx_retries_total", s.TxRetriesTotal)
		p.unum("tx_failed_total", s.TxFailedTotal)
		p.num("inactive_seconds", s.InactiveSeconds)
		p.num("connected_seconds", s.ConnectedSeconds)
		if s.StationThroughput != nil {
			p.num("expected_throughput_mbps", s.ExpectedThroughputMbps)
		}
		ps = append(ps, p)
	}
	return ps
}

func sliverPoints(a *pointArena, ps []point, ss []SliverStats) []point {
	running := 0
	for i := range ss {
		if ss[i].State == "running" || ss[i].State == "started" {
			running++
		}
	}
	g := a.newPoint("slivers", "slivers", "slivers", 2)
	g.inum("count", int64(len(ss)))
	g.inum("running", int64(running))
	ps = append(ps, g)
	for i := range ss {
		s := &ss[i]
		p := a.newPoint("slivers", "slivers/"+topicSafe(s.Name), "sliver", 11)
		p.tag("sliver", s.Name)
		if s.Slice != "" {
			p.tag("slice", s.Slice)
		}
		p.str("state", s.State)
		if s.Error != "" {
			p.str("error", s.Error)
		}
		p.inum("id", int64(s.ID))
		p.num("cpu_seconds_total", s.CPUSecondsTotal)
		p.inum("memory_bytes", s.MemoryBytes)
		if s.MemoryLimitBytes > 0 {
			p.inum("memory_limit_bytes", s.MemoryLimitBytes)
		}
		p.inum("pids", s.Pids)
		p.unum("rx_bytes_total", s.RxBytesTotal)
		p.unum("tx_bytes_total", s.TxBytesTotal)
		if s.SliverRates != nil {
			p.num("cpu_percent", s.CPUPercent)
			p.num("rx_bps", s.RxBps)
			p.num("tx_bps", s.TxBps)
		}
		ps = append(ps, p)
	}
	return ps
}

func agentPoints(a *pointArena, ps []point, ag *Agent) []point {
	p := a.newPoint("agent", "agent", "agent", 9)
	p.inum("rss_bytes", ag.RSSBytes)
	p.inum("goroutines", int64(ag.Goroutines))
	p.inum("spool_depth", int64(ag.SpoolDepth))
	p.inum("spool_bytes", ag.SpoolBytes)
	p.unum("published_total", ag.PublishedTotal)
	p.unum("dropped_total", ag.DroppedTotal)
	p.inum("connected", int64(ag.Connected))
	p.inum("policies_loaded", int64(ag.PoliciesLoaded))
	p.inum("policies_quarantined", int64(ag.PoliciesQuarantined))
	return append(ps, p)
}
