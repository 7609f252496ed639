package telemetry

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// sampleDoc is a document with every group filled in.
func sampleDoc() *Document {
	return &Document{
		Node: "nk-1", TS: 1764097485.123, Seq: 4711,
		System: &System{UptimeSeconds: 86400.5, Load: [3]float64{0.42, 0.36, 0.3},
			CPU:          CPU{Count: 2, UserSecondsTotal: 10, CPUPercent: &CPUPercent{UserPercent: 3.1, IdlePercent: 95, BusyPercent: 5}},
			Memory:       Memory{TotalBytes: 134217728, AvailableBytes: 83886080, UsedPercent: 37.5},
			Processes:    Processes{Running: 1, Total: 63},
			Temperatures: []Temperature{{Name: "cpu-thermal", Celsius: 51.2}},
			Filesystems:  []Filesystem{{Mount: "/overlay", SizeBytes: 8388608, UsedBytes: 1048576, FreeBytes: 7340032, UsedPercent: 12.5}, {Mount: "/", SizeBytes: 1}},
		},
		Interfaces: []Interface{
			{Name: "eth0", State: "up", Up: 1, MTU: 1500, MAC: "02:fc:00:00:00:01", RxBytesTotal: 123456, TxBytesTotal: 654321, LinkRates: &LinkRates{RxBps: 8000}},
			{Name: "br-lan", State: "down", MTU: 1500},
		},
		Wifi: &Wifi{
			Radios: []Radio{{Name: "wlan0", Phy: "phy0", Mode: "ap", SSID: `guifi "x"`, FrequencyMHz: 5180, Channel: 36, Stations: 1, RadioNoise: &RadioNoise{-95}, RadioTxPower: &RadioTxPower{20}}},
			Stations: []Station{{Ifname: "wlan0", MAC: "aa:bb:cc:dd:ee:ff", SignalDBm: -61, TxBitrateMbps: 433.3, RxBytesTotal: 1, InactiveSeconds: 0.01,
				StationThroughput: &StationThroughput{200}}},
		},
		Slivers: []SliverStats{{Name: "s3", Slice: "exp-mesh", ID: 3, State: "running", CPUSecondsTotal: 33.1, MemoryBytes: 10485760, MemoryLimitBytes: 67108864, Pids: 4,
			SliverRates: &SliverRates{CPUPercent: 12.5}}},
		Agent:      &Agent{RSSBytes: 9437184, Goroutines: 21, PublishedTotal: 1200},
		Collectors: map[string]CollectorStatus{"system": {DurationSeconds: 0.0001}, "wifi": {DurationSeconds: 0.00003, Error: "nl80211: boom"}},
	}
}

var allGroups = []string{"agent", "interfaces", "slivers", "system", "wifi"}

func TestEncodeJSONFlat(t *testing.T) {
	doc := sampleDoc()
	msgs := encodeJSON(doc.Node, doc.TS, doc.Seq, points(doc, allGroups))
	var topics []string
	for _, m := range msgs {
		topics = append(topics, m.topic)
		var obj map[string]any
		if err := json.Unmarshal(m.payload, &obj); err != nil {
			t.Fatalf("%s: %v: %s", m.topic, err, m.payload)
		}
		if obj["node"] != "nk-1" || obj["seq"] != 4711.0 || obj["ts"] != 1764097485.123 {
			t.Errorf("%s: header %v %v %v", m.topic, obj["node"], obj["seq"], obj["ts"])
		}
		for k, v := range obj {
			switch v.(type) {
			case float64, string:
			default:
				t.Errorf("%s: field %s is %T, not flat", m.topic, k, v)
			}
		}
	}
	want := []string{"agent", "interfaces", "interfaces/eth0", "interfaces/br-lan", "slivers", "slivers/s3",
		"system", "system/temperature/cpu-thermal", "system/filesystem/overlay", "system/filesystem/root",
		"wifi", "wifi/radio/wlan0", "wifi/station/aa:bb:cc:dd:ee:ff"}
	if !slices.Equal(topics, want) {
		t.Errorf("topics\n got %v\nwant %v", topics, want)
	}
	sys := string(msgs[slices.Index(topics, "system")].payload)
	for _, f := range []string{`"load1":0.42`, `"cpu_busy_percent":5`, `"memory_total_bytes":134217728`, `"uptime_seconds":86400.5`} {
		if !strings.Contains(sys, f) {
			t.Errorf("system message lacks %s: %s", f, sys)
		}
	}
	// Unknown values are left out: br-lan has no rates yet.
	if br := string(msgs[3].payload); strings.Contains(br, "rx_bps") {
		t.Errorf("br-lan has rates: %s", br)
	}
}

func TestAppendJSONString(t *testing.T) {
	for in, want := range map[string]string{
		"plain": `"plain"`, `q"b\`: `"q\"b\\"`, "nl\n\x01": `"nl\u000a\u0001"`, "bad\xffutf8": `"bad\ufffdutf8"`, "ñ": `"ñ"`,
	} {
		got := string(appendJSONString(nil, in))
		if got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("%s is not JSON: %v", got, err)
		}
	}
}

var influxLine = regexp.MustCompile(`^[a-z_]+,node=[^ ,]+(,[a-z_]+=([^ ,\\]|\\.)+)* seq=\d+i(,[a-z_0-9]+=("([^"\\]|\\.)*"|-?[0-9.]+i?))* \d{19}$`)

func TestEncodeInflux(t *testing.T) {
	doc := sampleDoc()
	msgs := encodeInflux(doc.Node, doc.TS, doc.Seq, points(doc, allGroups))
	var topics []string
	for _, m := range msgs {
		topics = append(topics, m.topic)
		for _, line := range strings.Split(strings.TrimSuffix(string(m.payload), "\n"), "\n") {
			if !influxLine.MatchString(line) {
				t.Errorf("%s: bad line %q", m.topic, line)
			}
			if !strings.HasSuffix(line, " 1764097485123000000") {
				t.Errorf("timestamp not the sample's: %q", line)
			}
		}
	}
	if !slices.Equal(topics, allGroups) {
		t.Errorf("one message per group: got %v", topics)
	}
	if !strings.Contains(string(msgs[4].payload), `wifi_radio,node=nk-1,ifname=wlan0,phy=phy0 seq=4711i,mode="ap",ssid="guifi \"x\""`) {
		t.Errorf("wifi radio line: %s", msgs[4].payload)
	}
}

// influxFields decodes a line with the line-protocol parser Telegraf's
// influx data format uses (influxdata/line-protocol/v2) and returns its
// measurement and its fields' types: 'i' integer, 'f' float, 's' string.
func influxFields(t *testing.T, line string) (string, map[string]byte) {
	t.Helper()
	dec := lineprotocol.NewDecoderWithBytes([]byte(line))
	if !dec.Next() {
		t.Fatalf("%q: no line", line)
	}
	meas, err := dec.Measurement()
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	for {
		k, _, err := dec.NextTag()
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if k == nil {
			break
		}
	}
	types := map[string]byte{}
	for {
		k, v, err := dec.NextField()
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if k == nil {
			break
		}
		typ := map[lineprotocol.ValueKind]byte{lineprotocol.Int: 'i', lineprotocol.Float: 'f', lineprotocol.String: 's'}[v.Kind()]
		if typ == 0 {
			t.Errorf("%q: field %s of kind %v", line, k, v.Kind())
		}
		if _, dup := types[string(k)]; dup {
			t.Errorf("%q: field %s twice", line, k)
		}
		types[string(k)] = typ
	}
	if _, err := dec.Time(lineprotocol.Nanosecond, time.Time{}); err != nil {
		t.Errorf("%q: timestamp: %v", line, err)
	}
	if dec.Next() {
		t.Errorf("%q: more than one line", line)
	}
	return string(meas), types
}

// influxInts are the integer fields of each measurement (docs/telemetry.md);
// every other number is a float.
var influxInts = map[string]string{
	"system":       "seq cpu_count memory_total_bytes memory_available_bytes memory_free_bytes memory_cached_bytes processes_running processes_total entropy_bits",
	"temperature":  "seq",
	"filesystem":   "seq size_bytes used_bytes free_bytes",
	"interfaces":   "seq count up",
	"interface":    "seq up mtu rx_bytes_total tx_bytes_total rx_packets_total tx_packets_total rx_errors_total tx_errors_total rx_dropped_total tx_dropped_total",
	"wifi":         "seq radios stations",
	"wifi_radio":   "seq frequency_mhz channel stations noise_dbm",
	"wifi_station": "seq signal_dbm signal_avg_dbm noise_dbm rx_bytes_total tx_bytes_total rx_packets_total tx_packets_total tx_retries_total tx_failed_total",
	"slivers":      "seq count running",
	"sliver":       "seq id memory_bytes memory_limit_bytes pids rx_bytes_total tx_bytes_total",
	"agent":        "seq rss_bytes goroutines spool_depth spool_bytes published_total dropped_total connected policies_loaded policies_quarantined",
}

// TestInfluxFieldTypes: integers are written as integers (with 'i'),
// as Telegraf's parser reads them,
// floats as floats even when whole, and each field has the same type in
// every sample whatever its value: InfluxDB refuses a field that changes
// type ("field type conflict").
func TestInfluxFieldTypes(t *testing.T) {
	whole := sampleDoc() // floats that happen to be whole, counters at 0
	whole.System.Load = [3]float64{0, 1, 2}
	whole.System.UptimeSeconds = 100
	whole.System.CPU.CPUPercent = &CPUPercent{IdlePercent: 100}
	whole.Interfaces[0].LinkRates = &LinkRates{RxBps: 0, TxBps: 8}
	whole.Wifi.Stations[0].TxBitrateMbps = 433
	whole.Wifi.Stations[0].InactiveSeconds = 1
	whole.Wifi.Radios[0].RadioTxPower = &RadioTxPower{20}
	whole.Slivers[0].CPUSecondsTotal = 33
	whole.Slivers[0].SliverRates = &SliverRates{CPUPercent: 12}
	whole.Interfaces[0].RxBytesTotal = 0
	whole.Wifi.Stations[0].RadioNoise = &RadioNoise{-95}
	seen := map[string]byte{}
	for _, doc := range []*Document{sampleDoc(), whole} {
		for _, m := range encodeInflux(doc.Node, doc.TS, doc.Seq, points(doc, allGroups)) {
			for _, line := range strings.Split(strings.TrimSuffix(string(m.payload), "\n"), "\n") {
				meas, types := influxFields(t, line)
				ints, ok := influxInts[meas]
				if !ok {
					t.Errorf("measurement %s not in the table", meas)
				}
				for k, typ := range types {
					want := byte('f')
					if typ == 's' {
						want = 's'
					} else if slices.Contains(strings.Fields(ints), k) {
						want = 'i'
					}
					if typ != want {
						t.Errorf("%s %s: type %c, want %c: %q", meas, k, typ, want, line)
					}
					if prev, ok := seen[meas+" "+k]; ok && prev != typ {
						t.Errorf("%s %s changed type between samples: %c then %c", meas, k, prev, typ)
					}
					seen[meas+" "+k] = typ
				}
			}
		}
	}
	// Every integer of the table was seen (the table is not stale).
	for meas, ints := range influxInts {
		for _, k := range strings.Fields(ints) {
			if seen[meas+" "+k] != 'i' {
				t.Errorf("%s %s: not seen as an integer", meas, k)
			}
		}
	}
	// JSON keeps plain numbers for both.
	doc := sampleDoc()
	for _, m := range encodeJSON(doc.Node, doc.TS, doc.Seq, points(doc, []string{"system"}))[:1] {
		for _, f := range []string{`"cpu_count":2`, `"load1":0.42`, `"memory_total_bytes":134217728`} {
			if !strings.Contains(string(m.payload), f) {
				t.Errorf("JSON system lacks %s: %s", f, m.payload)
			}
		}
	}
}

func TestTopicSafe(t *testing.T) {
	for in, want := range map[string]string{"eth0": "eth0", "/overlay": "overlay", "/mnt/usb 1": "mnt_usb_1", "a+b#c": "a_b_c", "": "_", "/": "_"} {
		if got := topicSafe(in); got != want {
			t.Errorf("topicSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

var (
	promComment = regexp.MustCompile(`^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$`)
	promSample  = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? (-?[0-9.e+-]+|NaN)$`)
)

// checkExposition checks the text format: every line parses, a family's
// TYPE comes before its samples and its samples are contiguous.
func checkExposition(t *testing.T, text string) {
	t.Helper()
	done := map[string]bool{}
	typed := map[string]bool{}
	cur := ""
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if m := promComment.FindStringSubmatch(line); m != nil {
			if m[1] == "TYPE" {
				if typed[m[2]] {
					t.Errorf("%s has two TYPE lines", m[2])
				}
				typed[m[2]] = true
			}
			continue
		}
		m := promSample.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("bad exposition line %q", line)
			continue
		}
		if !typed[m[1]] {
			t.Errorf("%s has no TYPE before its samples", m[1])
		}
		if m[1] != cur {
			if done[m[1]] {
				t.Errorf("samples of %s are not contiguous", m[1])
			}
			done[cur] = true
			cur = m[1]
		}
	}
}
