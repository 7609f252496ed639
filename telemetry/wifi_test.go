//go:build !nowifi

package telemetry

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/wifi"
)

func TestWifiMapping(t *testing.T) {
	mac := func(s string) net.HardwareAddr { m, _ := net.ParseMAC(s); return m }
	ifi := &wifi.Interface{Index: 5, Name: "wlan0", HardwareAddr: mac("02:fc:00:00:00:01"), PHY: 1,
		Type: wifi.InterfaceTypeAP, Frequency: 5180, ChannelWidth: wifi.ChannelWidth80}
	surveys := []*wifi.SurveyInfo{
		{Frequency: 5200, Noise: -90},
		{Frequency: 5180, Noise: -95, InUse: true},
	}
	tests := []struct {
		name    string
		ifi     *wifi.Interface
		ssid    string
		txpower int
		surveys []*wifi.SurveyInfo
		want    Radio
	}{
		{"ap with survey", ifi, "guifi.net-x", 2000, surveys, Radio{Name: "wlan0", Phy: "phy1", MAC: "02:fc:00:00:00:01", Mode: "ap", SSID: "guifi.net-x",
			FrequencyMHz: 5180, Channel: 36, ChannelWidth: "80 MHz", Stations: 2, RadioNoise: &RadioNoise{NoiseDBm: -95}}},
		{"station on 2.4 GHz, no survey", &wifi.Interface{Name: "wlan1", PHY: 0, Type: wifi.InterfaceTypeStation, Frequency: 2437, ChannelWidth: wifi.ChannelWidth20},
			"guifi.net-x", 0, nil, Radio{Name: "wlan1", Phy: "phy0", Mode: "sta", SSID: "guifi.net-x", FrequencyMHz: 2437, Channel: 6, ChannelWidth: "20 MHz", Stations: 2}},
		{"mesh point not on a channel", &wifi.Interface{Name: "mesh0", Type: wifi.InterfaceTypeMeshPoint}, "", 0, nil,
			Radio{Name: "mesh0", Phy: "phy0", Mode: "mesh", Stations: 2}},
	}
	for _, tt := range tests {
		got := mapRadio(tt.ifi, tt.ssid, tt.txpower, tt.surveys, 2)
		if (got.RadioTxPower != nil) != (tt.txpower != 0) || (got.RadioTxPower != nil && got.TxPowerDBm != float64(tt.txpower)/100) {
			t.Errorf("%s: txpower %v, want %d mBm", tt.name, got.RadioTxPower, tt.txpower)
		}
		got.RadioTxPower = nil
		if (got.RadioNoise == nil) != (tt.want.RadioNoise == nil) || (got.RadioNoise != nil && *got.RadioNoise != *tt.want.RadioNoise) {
			t.Errorf("%s: noise %v, want %v", tt.name, got.RadioNoise, tt.want.RadioNoise)
		}
		got.RadioNoise, tt.want.RadioNoise = nil, nil
		if got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}

	st := &wifi.StationInfo{HardwareAddr: mac("aa:bb:cc:dd:ee:ff"), Connected: time.Hour, Inactive: 10 * time.Millisecond,
		ReceivedBytes: 1, TransmittedBytes: 2, ReceivedPackets: 3, TransmittedPackets: 4, ReceiveBitrate: 390_000_000, TransmitBitrate: 433_300_000,
		Signal: -61, SignalAverage: -63, TransmitRetries: 5, TransmitFailed: 6}
	got := mapStation("wlan0", st, 200000, &RadioNoise{NoiseDBm: -95})
	if got.StationThroughput == nil || got.ExpectedThroughputMbps != 200 {
		t.Errorf("expected throughput %v, want 200 Mbit/s", got.StationThroughput)
	}
	got.StationThroughput = nil
	want := Station{Ifname: "wlan0", MAC: "aa:bb:cc:dd:ee:ff", SignalDBm: -61, SignalAvgDBm: -63, TxBitrateMbps: 433.3, RxBitrateMbps: 390,
		RxBytesTotal: 1, TxBytesTotal: 2, RxPacketsTotal: 3, TxPacketsTotal: 4, TxRetriesTotal: 5, TxFailedTotal: 6,
		InactiveSeconds: 0.01, ConnectedSeconds: 3600}
	if got.RadioNoise == nil || got.NoiseDBm != -95 {
		t.Errorf("station noise %v", got.RadioNoise)
	}
	got.RadioNoise = nil
	if got != want {
		t.Errorf("station:\n got %+v\nwant %+v", got, want)
	}
}

func TestChannelOf(t *testing.T) {
	for mhz, ch := range map[int]int{2412: 1, 2437: 6, 2472: 13, 2484: 14, 5180: 36, 5825: 165, 5955: 1, 6115: 33, 60480: 0, 0: 0} {
		if got := channelOf(mhz); got != ch {
			t.Errorf("channelOf(%d) = %d, want %d", mhz, got, ch)
		}
	}
}

// TestWifiWithoutHardware runs the real collector on this machine, which has
// no wifi: empty lists, no error.
func TestWifiWithoutHardware(t *testing.T) {
	if ifs, _ := net.Interfaces(); hasWireless(ifs) {
		t.Skip("this machine has wifi; the no-hardware case cannot be seen here (not a CI machine)")
	}
	c := factories["wifi"].new(Sources{})
	doc := &Document{}
	if err := c.Collect(context.Background(), time.Now(), doc); err != nil {
		t.Fatalf("no wifi hardware must not be an error: %v", err)
	}
	if doc.Wifi == nil || doc.Wifi.Radios == nil || doc.Wifi.Stations == nil || len(doc.Wifi.Radios) != 0 {
		t.Fatalf("want empty (non-nil) lists, got %+v", doc.Wifi)
	}
}

func hasWireless(ifs []net.Interface) bool {
	for _, i := range ifs {
		if fileExists("/sys/class/net/" + i.Name + "/wireless") {
			return true
		}
	}
	return false
}

// TestPrometheusWifi: radios and stations as the nl80211 collector maps
// them give the exporter's wifi and wifi_stations families, with its label
// names, and iwinfo's view of an access point (its stations' average
// signal and bitrate, quality out of 100, mode "Master").
func TestPrometheusWifi(t *testing.T) {
	mac := func(s string) net.HardwareAddr { m, _ := net.ParseMAC(s); return m }
	ap := &wifi.Interface{Index: 5, Name: "wlan0", HardwareAddr: mac("02:fc:00:00:00:01"), PHY: 1,
		Type: wifi.InterfaceTypeAP, Frequency: 5180, ChannelWidth: wifi.ChannelWidth80}
	sta := &wifi.Interface{Index: 6, Name: "wlan1", PHY: 0, Type: wifi.InterfaceTypeStation, Frequency: 2437}
	noise := &RadioNoise{NoiseDBm: -95}
	w := &Wifi{Radios: []Radio{
		mapRadio(ap, "guifi.net-x", 2000, []*wifi.SurveyInfo{{Frequency: 5180, Noise: -95, InUse: true}}, 2),
		mapRadio(sta, "up", 0, nil, 0),
	}}
	for i, sig := range []int{-60, -70} {
		st := &wifi.StationInfo{HardwareAddr: mac("aa:bb:cc:dd:ee:0" + string(rune('0'+i))), Inactive: 10 * time.Millisecond,
			ReceiveBitrate: 300_000_000 + i*100_000_000, TransmitBitrate: 433_300_000, Signal: sig, ReceivedPackets: 3, TransmittedPackets: 4}
		w.Stations = append(w.Stations, mapStation("wlan0", st, 0, noise))
	}
	doc := &Document{Wifi: w}
	text := string(AppendPrometheus(nil, doc, t.TempDir(), time.Unix(0, 0)))
	checkExposition(t, text)
	apLabels := `{ifname="wlan0",device="phy1",ssid="guifi.net-x",bssid="02:fc:00:00:00:01",mode="Master",channel="36",frequency="5180",country=""}`
	for _, want := range []string{
		"wifi_network_signal_dbm" + apLabels + " -65",
		"wifi_network_bitrate" + apLabels + " 350000",
		"wifi_network_quality" + apLabels + " 64", // (-65 + 110) / 70
		"wifi_network_noise_dbm" + apLabels + " -95",
		`wifi_network_signal_dbm{ifname="wlan1",device="phy0",ssid="up",bssid="",mode="Client",channel="6",frequency="2437",country=""} -255`,
		`wifi_stations{ifname="wlan0"} 2`,
		`wifi_station_receive_kilobits_per_second{ifname="wlan0",mac="aa:bb:cc:dd:ee:01"} 400000`,
		`wifi_station_transmit_packets_total{ifname="wlan0",mac="aa:bb:cc:dd:ee:00"} 4`,
		`wifi_station_inactive_milliseconds{ifname="wlan0",mac="aa:bb:cc:dd:ee:00"} 10`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("exposition lacks %q", want)
		}
	}
	ref := luaReference(t)
	for name, f := range promFamilies(t, text) {
		if !strings.HasPrefix(name, "wifi_") {
			continue
		}
		if r := ref[name]; r == nil || r.typ != f.typ || !slices.Equal(r.labels, f.labels) {
			t.Errorf("%s %s %v is not the exporter's (%+v)", name, f.typ, f.labels, r)
		}
	}
}
