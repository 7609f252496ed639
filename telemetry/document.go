package telemetry

// This file holds the sample document: the schema of docs/telemetry.md as Go
// types. A field whose value is unknown is left out of the JSON: optional
// numbers sit in embedded pointer structs (nil until known, e.g. rates on the
// first sample), so encoding/json omits them without a pointer per number.

// Document is one sample of the node's state. It is immutable once
// published: readers (policies, the Prometheus listener, subscribers) may keep
// it without copying.
type Document struct {
	Node       string                     `json:"node"`
	TS         float64                    `json:"ts"`
	Seq        uint64                     `json:"seq"`
	System     *System                    `json:"system,omitempty"`
	Interfaces []Interface                `json:"interfaces,omitzero"`
	Wifi       *Wifi                      `json:"wifi,omitempty"`
	Slivers    []SliverStats              `json:"slivers,omitzero"`
	Agent      *Agent                     `json:"agent,omitempty"`
	Collectors map[string]CollectorStatus `json:"collectors"`
}

// CollectorStatus says how one collector did in the sample that last ran it.
type CollectorStatus struct {
	DurationSeconds float64 `json:"duration_seconds"`
	Error           string  `json:"error,omitempty"`
}

// System is the `system` group.
type System struct {
	UptimeSeconds float64       `json:"uptime_seconds"`
	Load          [3]float64    `json:"load"`
	CPU           CPU           `json:"cpu"`
	Memory        Memory        `json:"memory"`
	Processes     Processes     `json:"processes"`
	EntropyBits   int64         `json:"entropy_bits"`
	Temperatures  []Temperature `json:"temperatures,omitempty"`
	Filesystems   []Filesystem  `json:"filesystems,omitempty"`
}

// CPU holds the CPU time counters of all CPUs together and, from the second
// sample on, the share of each mode since the previous sample.
type CPU struct {
	Count              int     `json:"count"`
	UserSecondsTotal   float64 `json:"user_seconds_total"`
	NiceSecondsTotal   float64 `json:"nice_seconds_total"`
	SystemSecondsTotal float64 `json:"system_seconds_total"`
	IdleSecondsTotal   float64 `json:"idle_seconds_total"`
	IowaitSecondsTotal float64 `json:"iowait_seconds_total"`
	IRQSecondsTotal    float64 `json:"irq_seconds_total"`
	SoftIRQSeconds     float64 `json:"softirq_seconds_total"`
	StealSecondsTotal  float64 `json:"steal_seconds_total"`
	*CPUPercent
}

// CPUPercent is the share of CPU time per mode since the previous sample
// (user includes nice, system includes irq and softirq).
type CPUPercent struct {
	UserPercent   float64 `json:"user_percent"`
	SystemPercent float64 `json:"system_percent"`
	IdlePercent   float64 `json:"idle_percent"`
	IowaitPercent float64 `json:"iowait_percent"`
	StealPercent  float64 `json:"steal_percent"`
	BusyPercent   float64 `json:"busy_percent"`
}

// Memory is from /proc/meminfo.
type Memory struct {
	TotalBytes     int64   `json:"total_bytes"`
	AvailableBytes int64   `json:"available_bytes"`
	FreeBytes      int64   `json:"free_bytes"`
	CachedBytes    int64   `json:"cached_bytes"`
	BuffersBytes   int64   `json:"buffers_bytes"`
	UsedPercent    float64 `json:"used_percent"`
}

// Processes counts scheduling entities (from /proc/loadavg).
type Processes struct {
	Running int64 `json:"running"`
	Total   int64 `json:"total"`
}

// Temperature is one thermal zone.
type Temperature struct {
	Name    string  `json:"name"`
	Celsius float64 `json:"celsius"`
}

// Filesystem is one mount of interest.
type Filesystem struct {
	Mount       string  `json:"mount"`
	SizeBytes   int64   `json:"size_bytes"`
	UsedBytes   int64   `json:"used_bytes"`
	FreeBytes   int64   `json:"free_bytes"`
	UsedPercent float64 `json:"used_percent"`
}

// Interface is one network link.
type Interface struct {
	Name           string `json:"name"`
	State          string `json:"state"`
	Up             int    `json:"up"`
	MTU            int    `json:"mtu"`
	MAC            string `json:"mac,omitempty"`
	RxBytesTotal   uint64 `json:"rx_bytes_total"`
	TxBytesTotal   uint64 `json:"tx_bytes_total"`
	RxPacketsTotal uint64 `json:"rx_packets_total"`
	TxPacketsTotal uint64 `json:"tx_packets_total"`
	RxErrorsTotal  uint64 `json:"rx_errors_total"`
	TxErrorsTotal  uint64 `json:"tx_errors_total"`
	RxDroppedTotal uint64 `json:"rx_dropped_total"`
	TxDroppedTotal uint64 `json:"tx_dropped_total"`
	*LinkRates
}

// LinkRates are the rates of a link since the previous sample.
type LinkRates struct {
	RxBps float64 `json:"rx_bps"`
	TxBps float64 `json:"tx_bps"`
	RxPps float64 `json:"rx_pps"`
	TxPps float64 `json:"tx_pps"`
}

// Wifi is the `wifi` group. Both lists are empty (never absent) when the
// node has no wifi hardware.
type Wifi struct {
	Radios   []Radio   `json:"radios"`
	Stations []Station `json:"stations"`
}

// Radio is one wifi interface (a virtual interface on a phy).
type Radio struct {
	Name         string `json:"name"`
	Phy          string `json:"phy"`
	MAC          string `json:"mac,omitempty"`
	Mode         string `json:"mode"`
	SSID         string `json:"ssid,omitempty"`
	FrequencyMHz int    `json:"frequency_mhz,omitempty"`
	Channel      int    `json:"channel,omitempty"`
	ChannelWidth string `json:"channel_width,omitempty"`
	Stations     int    `json:"stations"`
	*RadioTxPower
	*RadioNoise
}

// RadioTxPower is the transmit power, when the driver reports it.
type RadioTxPower struct {
	TxPowerDBm float64 `json:"txpower_dbm"`
}

// RadioNoise is the noise floor of the channel in use, when the driver
// reports a survey.
type RadioNoise struct {
	NoiseDBm int `json:"noise_dbm"`
}

// Station is one peer associated with a wifi interface.
type Station struct {
	Ifname           string  `json:"ifname"`
	MAC              string  `json:"mac"`
	SignalDBm        int     `json:"signal_dbm"`
	SignalAvgDBm     int     `json:"signal_avg_dbm"`
	TxBitrateMbps    float64 `json:"tx_bitrate_mbps"`
	RxBitrateMbps    float64 `json:"rx_bitrate_mbps"`
	RxBytesTotal     uint64  `json:"rx_bytes_total"`
	TxBytesTotal     uint64  `json:"tx_bytes_total"`
	RxPacketsTotal   uint64  `json:"rx_packets_total"`
	TxPacketsTotal   uint64  `json:"tx_packets_total"`
	TxRetriesTotal   uint64  `json:"tx_retries_total"`
	TxFailedTotal    uint64  `json:"tx_failed_total"`
	InactiveSeconds  float64 `json:"inactive_seconds"`
	ConnectedSeconds float64 `json:"connected_seconds"`
	*StationThroughput
	*RadioNoise
}

// StationThroughput is the throughput the driver's rate control expects to
// the station, when it reports one.
type StationThroughput struct {
	ExpectedThroughputMbps float64 `json:"expected_throughput_mbps"`
}

// SliverStats is one sliver (container) as seen from the host.
type SliverStats struct {
	Name             string  `json:"name"`
	Slice            string  `json:"slice,omitempty"`
	ID               int     `json:"id"`
	State            string  `json:"state"`
	CPUSecondsTotal  float64 `json:"cpu_seconds_total"`
	MemoryBytes      int64   `json:"memory_bytes"`
	MemoryLimitBytes int64   `json:"memory_limit_bytes,omitempty"`
	Pids             int64   `json:"pids"`
	RxBytesTotal     uint64  `json:"rx_bytes_total"`
	TxBytesTotal     uint64  `json:"tx_bytes_total"`
	Error            string  `json:"error,omitempty"`
	*SliverRates
}

// SliverRates are a sliver's rates since the previous sample.
type SliverRates struct {
	CPUPercent float64 `json:"cpu_percent"`
	RxBps      float64 `json:"rx_bps"`
	TxBps      float64 `json:"tx_bps"`
}

// Agent is the `agent` group: the agent's own health.
type Agent struct {
	RSSBytes            int64  `json:"rss_bytes"`
	Goroutines          int    `json:"goroutines"`
	SpoolDepth          int    `json:"spool_depth"`
	SpoolBytes          int64  `json:"spool_bytes"`
	PublishedTotal      uint64 `json:"published_total"`
	DroppedTotal        uint64 `json:"dropped_total"`
	Connected           int    `json:"connected"`
	PoliciesLoaded      int    `json:"policies_loaded"`
	PoliciesQuarantined int    `json:"policies_quarantined"`
}
