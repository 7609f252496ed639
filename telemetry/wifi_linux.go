//go:build !nowifi

package telemetry

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/wifi"
	"golang.org/x/sys/unix"
)

// unixEOPNOTSUPP is what drivers without survey support answer.
var unixEOPNOTSUPP error = unix.EOPNOTSUPP

// nl80211 is a generic netlink connection to the nl80211 family.
type nl80211 struct {
	c      *genetlink.Conn
	family genetlink.Family
}

func dialNL80211() (*nl80211, error) {
	c, err := genetlink.Dial(nil)
	if err != nil {
		return nil, err
	}
	f, err := c.GetFamily(unix.NL80211_GENL_NAME)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &nl80211{c: c, family: f}, nil
}

func (n *nl80211) close() { n.c.Close() }

// dump runs a dump command, for one interface when ifindex > 0.
func (n *nl80211) dump(cmd uint8, ifindex int) ([]genetlink.Message, error) {
	ae := netlink.NewAttributeEncoder()
	if ifindex > 0 {
		ae.Uint32(unix.NL80211_ATTR_IFINDEX, uint32(ifindex))
	}
	b, err := ae.Encode()
	if err != nil {
		return nil, err
	}
	n.c.SetDeadline(time.Now().Add(2 * time.Second)) // a wedged driver must not stall sampling
	return n.c.Execute(genetlink.Message{Header: genetlink.Header{Command: cmd, Version: n.family.Version}, Data: b},
		n.family.ID, netlink.Request|netlink.Dump)
}

func (n *nl80211) interfaces() ([]nlInterface, error) {
	msgs, err := n.dump(unix.NL80211_CMD_GET_INTERFACE, 0)
	if err != nil {
		return nil, err
	}
	return parseNLInterfaces(msgs)
}

func (n *nl80211) stations(ifindex int) ([]nlStation, error) {
	msgs, err := n.dump(unix.NL80211_CMD_GET_STATION, ifindex)
	if err != nil {
		return nil, err
	}
	return parseNLStations(msgs)
}

func (n *nl80211) surveys(ifindex int) ([]*wifi.SurveyInfo, error) {
	msgs, err := n.dump(unix.NL80211_CMD_GET_SURVEY, ifindex)
	if err != nil {
		return nil, err
	}
	return parseNLSurveys(msgs)
}

// parseNLInterfaces decodes GET_INTERFACE replies: the library's fields,
// plus the SSID and the transmit power it leaves out.
func parseNLInterfaces(msgs []genetlink.Message) ([]nlInterface, error) {
	ifis, err := wifi.ParseInterfaces(msgs)
	if err != nil {
		return nil, err
	}
	out := make([]nlInterface, len(ifis))
	for i, m := range msgs {
		out[i].Interface = ifis[i]
		ad, err := netlink.NewAttributeDecoder(m.Data)
		if err != nil {
			return nil, fmt.Errorf("interface %s: %w", ifis[i].Name, err)
		}
		for ad.Next() {
			switch ad.Type() {
			case unix.NL80211_ATTR_SSID:
				out[i].ssid = string(ad.Bytes())
			case unix.NL80211_ATTR_WIPHY_TX_POWER_LEVEL:
				out[i].txPowerMBm = int(int32(ad.Uint32()))
			}
		}
		if err := ad.Err(); err != nil {
			return nil, fmt.Errorf("interface %s: %w", ifis[i].Name, err)
		}
	}
	return out, nil
}

// parseNLStations decodes GET_STATION replies with the library's parser,
// plus the expected throughput (kbit/s) inside NL80211_ATTR_STA_INFO.
func parseNLStations(msgs []genetlink.Message) ([]nlStation, error) {
	out := make([]nlStation, 0, len(msgs))
	for _, m := range msgs {
		si, err := wifi.ParseStationInfo(m.Data)
		if err != nil {
			return nil, fmt.Errorf("station: %w", err)
		}
		st := nlStation{StationInfo: si}
		attrs, err := netlink.UnmarshalAttributes(m.Data)
		if err != nil {
			return nil, fmt.Errorf("station %s: %w", si.HardwareAddr, err)
		}
		for _, a := range attrs {
			if a.Type&^netlink.Nested != unix.NL80211_ATTR_STA_INFO {
				continue
			}
			nested, err := netlink.UnmarshalAttributes(a.Data)
			if err != nil {
				return nil, fmt.Errorf("station %s info: %w", si.HardwareAddr, err)
			}
			for _, n := range nested {
				if n.Type&^netlink.Nested == unix.NL80211_STA_INFO_EXPECTED_THROUGHPUT && len(n.Data) >= 4 {
					st.expectedKbps = int(binary.NativeEndian.Uint32(n.Data))
				}
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// parseNLSurveys decodes GET_SURVEY replies: the frequency, noise and
// in-use flag of each channel.
func parseNLSurveys(msgs []genetlink.Message) ([]*wifi.SurveyInfo, error) {
	var out []*wifi.SurveyInfo
	for _, m := range msgs {
		attrs, err := netlink.UnmarshalAttributes(m.Data)
		if err != nil {
			return nil, fmt.Errorf("survey: %w", err)
		}
		for _, a := range attrs {
			if a.Type&^netlink.Nested != unix.NL80211_ATTR_SURVEY_INFO {
				continue
			}
			nested, err := netlink.UnmarshalAttributes(a.Data)
			if err != nil {
				return nil, fmt.Errorf("survey info: %w", err)
			}
			s := &wifi.SurveyInfo{}
			for _, n := range nested {
				switch n.Type &^ netlink.Nested {
				case unix.NL80211_SURVEY_INFO_FREQUENCY:
					if len(n.Data) >= 4 {
						s.Frequency = int(binary.NativeEndian.Uint32(n.Data))
					}
				case unix.NL80211_SURVEY_INFO_NOISE:
					if len(n.Data) >= 1 {
						s.Noise = int(int8(n.Data[0]))
					}
				case unix.NL80211_SURVEY_INFO_IN_USE:
					s.InUse = true
				}
			}
			out = append(out, s)
		}
	}
	return out, nil
}
