//go:build !nowifi

package telemetry

import (
	"encoding/binary"
	"testing"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

func genlMsg(t *testing.T, enc func(ae *netlink.AttributeEncoder)) genetlink.Message {
	t.Helper()
	ae := netlink.NewAttributeEncoder()
	enc(ae)
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return genetlink.Message{Data: b}
}

// TestParseNL80211 feeds nl80211 replies, encoded as the kernel does, to the
// parsers (the library's and ours) and maps them to the document.
func TestParseNL80211(t *testing.T) {
	ifMsg := genlMsg(t, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(unix.NL80211_ATTR_IFINDEX, 5)
		ae.String(unix.NL80211_ATTR_IFNAME, "wlan0")
		ae.Bytes(unix.NL80211_ATTR_MAC, []byte{2, 0xfc, 0, 0, 0, 1})
		ae.Uint32(unix.NL80211_ATTR_WIPHY, 1)
		ae.Uint32(unix.NL80211_ATTR_IFTYPE, unix.NL80211_IFTYPE_MESH_POINT)
		ae.Uint32(unix.NL80211_ATTR_WIPHY_FREQ, 5180)
		ae.Uint32(unix.NL80211_ATTR_CHANNEL_WIDTH, unix.NL80211_CHAN_WIDTH_80)
		ae.Bytes(unix.NL80211_ATTR_SSID, []byte("guifi.net-x"))
		ae.Uint32(unix.NL80211_ATTR_WIPHY_TX_POWER_LEVEL, 2000)
	})
	ifs, err := parseNLInterfaces([]genetlink.Message{ifMsg})
	if err != nil || len(ifs) != 1 {
		t.Fatal(err, ifs)
	}
	staMsg := genlMsg(t, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(unix.NL80211_ATTR_IFINDEX, 5)
		ae.Bytes(unix.NL80211_ATTR_MAC, []byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff})
		ae.Nested(unix.NL80211_ATTR_STA_INFO, func(n *netlink.AttributeEncoder) error {
			n.Uint8(unix.NL80211_STA_INFO_SIGNAL, uint8(0xc3)) // -61 dBm
			n.Uint32(unix.NL80211_STA_INFO_INACTIVE_TIME, 10)
			n.Uint32(unix.NL80211_STA_INFO_CONNECTED_TIME, 3600)
			n.Uint64(unix.NL80211_STA_INFO_RX_BYTES64, 1<<33)
			n.Uint32(unix.NL80211_STA_INFO_EXPECTED_THROUGHPUT, 200000)
			n.Nested(unix.NL80211_STA_INFO_TX_BITRATE, func(r *netlink.AttributeEncoder) error {
				r.Uint32(unix.NL80211_RATE_INFO_BITRATE32, 4333)
				return nil
			})
			return nil
		})
	})
	stas, err := parseNLStations([]genetlink.Message{staMsg})
	if err != nil || len(stas) != 1 {
		t.Fatal(err, stas)
	}
	survey := func(freq uint32, noise int8, inUse bool) genetlink.Message {
		return genlMsg(t, func(ae *netlink.AttributeEncoder) {
			ae.Uint32(unix.NL80211_ATTR_IFINDEX, 5)
			ae.Nested(unix.NL80211_ATTR_SURVEY_INFO, func(n *netlink.AttributeEncoder) error {
				n.Uint32(unix.NL80211_SURVEY_INFO_FREQUENCY, freq)
				n.Uint8(unix.NL80211_SURVEY_INFO_NOISE, uint8(noise))
				if inUse {
					n.Flag(unix.NL80211_SURVEY_INFO_IN_USE, true)
				}
				return nil
			})
		})
	}
	surveys, err := parseNLSurveys([]genetlink.Message{survey(5200, -90, false), survey(5180, -95, true)})
	if err != nil || len(surveys) != 2 {
		t.Fatal(err, surveys)
	}

	r := mapRadio(ifs[0].Interface, ifs[0].ssid, ifs[0].txPowerMBm, surveys, len(stas))
	if r.Name != "wlan0" || r.Phy != "phy1" || r.Mode != "mesh" || r.SSID != "guifi.net-x" || r.Channel != 36 || r.ChannelWidth != "80 MHz" ||
		r.RadioTxPower == nil || r.TxPowerDBm != 20 || r.RadioNoise == nil || r.NoiseDBm != -95 || r.Stations != 1 {
		t.Errorf("radio %+v (txpower %v, noise %v)", r, r.RadioTxPower, r.RadioNoise)
	}
	s := mapStation("wlan0", stas[0].StationInfo, stas[0].expectedKbps, r.RadioNoise)
	if s.MAC != "aa:bb:cc:dd:ee:ff" || s.SignalDBm != -61 || s.InactiveSeconds != 0.01 || s.ConnectedSeconds != 3600 ||
		s.RxBytesTotal != 1<<33 || s.TxBitrateMbps != 433.3 || s.StationThroughput == nil || s.ExpectedThroughputMbps != 200 {
		t.Errorf("station %+v (throughput %v)", s, s.StationThroughput)
	}

	// A station reply without STA_INFO is an error from the library's
	// parser, passed on.
	bad := genlMsg(t, func(ae *netlink.AttributeEncoder) { ae.Uint32(unix.NL80211_ATTR_IFINDEX, 5) })
	if _, err := parseNLStations([]genetlink.Message{bad}); err == nil {
		t.Error("station without info accepted")
	}
	if _, err := parseNLSurveys([]genetlink.Message{{Data: binary.NativeEndian.AppendUint16(nil, 200)}}); err == nil {
		t.Error("truncated survey accepted")
	}
}
