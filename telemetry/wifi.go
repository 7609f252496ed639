//go:build !nowifi

package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/mdlayher/wifi"
)

func init() {
	registerCollector("wifi", true, func(Sources) Collector { return &wifiCollector{} })
}

// wifiCollector reports radios and stations through nl80211 (one generic
// netlink connection; the records are decoded with mdlayher/wifi's parsers
// plus the few attributes it leaves out). A node without wifi (no nl80211
// family, no wifi interfaces) gets empty lists, not an error.
type wifiCollector struct {
	nl *nl80211
	// absentUntil: nl80211 was missing; look again only after this time
	// (a driver may be loaded later), not on every sample.
	absentUntil time.Time
}

// wifiRecheck is how long a node without nl80211 waits before looking again.
const wifiRecheck = 5 * time.Minute

// Collect implements Collector.
func (c *wifiCollector) Collect(_ context.Context, now time.Time, doc *Document) error {
	w := &Wifi{Radios: []Radio{}, Stations: []Station{}}
	doc.Wifi = w
	if c.nl == nil {
		if now.Before(c.absentUntil) {
			return nil
		}
		nl, err := dialNL80211()
		if err != nil {
			if noWifi(err) {
				c.absentUntil = now.Add(wifiRecheck)
				return nil
			}
			return fmt.Errorf("nl80211: %w", err)
		}
		c.nl = nl
	}
	ifaces, err := c.nl.interfaces()
	if err != nil {
		c.nl.close()
		c.nl = nil
		return fmt.Errorf("nl80211 interfaces: %w", err)
	}
	var errs []error
	for _, ifc := range ifaces {
		if ifc.Name == "" {
			continue // a P2P device or similar without a netdev
		}
		stas, err := c.nl.stations(ifc.Index)
		if err != nil && !noWifi(err) {
			errs = append(errs, fmt.Errorf("%s stations: %w", ifc.Name, err))
		}
		surveys, err := c.nl.surveys(ifc.Index)
		if err != nil && !noWifi(err) && !errors.Is(err, unixEOPNOTSUPP) {
			errs = append(errs, fmt.Errorf("%s survey: %w", ifc.Name, err))
		}
		r := mapRadio(ifc.Interface, ifc.ssid, ifc.txPowerMBm, surveys, len(stas))
		w.Radios = append(w.Radios, r)
		for _, s := range stas {
			w.Stations = append(w.Stations, mapStation(ifc.Name, s.StationInfo, s.expectedKbps, r.RadioNoise))
		}
	}
	return errors.Join(errs...)
}

func (c *wifiCollector) close() {
	if c.nl != nil {
		c.nl.close()
		c.nl = nil
	}
}

// nlInterface is an nl80211 interface with the attributes mdlayher/wifi
// does not decode.
type nlInterface struct {
	*wifi.Interface
	ssid       string
	txPowerMBm int // 0: not reported
}

// nlStation is a station with its expected throughput (0: not reported).
type nlStation struct {
	*wifi.StationInfo
	expectedKbps int
}

// noWifi tells errors that mean "no wifi here": nl80211 is not in the kernel
// or the interface has nothing to report.
func noWifi(err error) bool {
	return errors.Is(err, os.ErrNotExist)
}

// mapRadio maps an nl80211 interface to the document's radio. The noise
// floor comes from the survey of the channel in use.
func mapRadio(ifi *wifi.Interface, ssid string, txPowerMBm int, surveys []*wifi.SurveyInfo, stations int) Radio {
	r := Radio{
		Name:         ifi.Name,
		Phy:          "phy" + strconv.Itoa(ifi.PHY),
		Mode:         ifaceMode(ifi.Type),
		SSID:         ssid,
		FrequencyMHz: ifi.Frequency,
		Channel:      channelOf(ifi.Frequency),
		Stations:     stations,
	}
	if ifi.Frequency != 0 {
		r.ChannelWidth = ifi.ChannelWidth.String()
	}
	if txPowerMBm != 0 {
		r.RadioTxPower = &RadioTxPower{TxPowerDBm: float64(txPowerMBm) / 100}
	}
	if len(ifi.HardwareAddr) > 0 {
		r.MAC = ifi.HardwareAddr.String()
	}
	for _, s := range surveys {
		if s != nil && s.InUse && s.Noise != 0 {
			r.RadioNoise = &RadioNoise{NoiseDBm: s.Noise}
			break
		}
	}
	return r
}

// mapStation maps an nl80211 station to the document's station. Bitrates
// in the library are in bit/s; the expected throughput comes
// in kbit/s.
func mapStation(ifname string, s *wifi.StationInfo, expectedKbps int, noise *RadioNoise) Station {
	st := Station{
		Ifname:           ifname,
		MAC:              s.HardwareAddr.String(),
		SignalDBm:        s.Signal,
		SignalAvgDBm:     s.SignalAverage,
		TxBitrateMbps:    float64(s.TransmitBitrate) / 1e6,
		RxBitrateMbps:    float64(s.ReceiveBitrate) / 1e6,
		RxBytesTotal:     uint64(s.ReceivedBytes),
		TxBytesTotal:     uint64(s.TransmittedBytes),
		RxPacketsTotal:   uint64(s.ReceivedPackets),
		TxPacketsTotal:   uint64(s.TransmittedPackets),
		TxRetriesTotal:   uint64(s.TransmitRetries),
		TxFailedTotal:    uint64(s.TransmitFailed),
		InactiveSeconds:  s.Inactive.Seconds(),
		ConnectedSeconds: s.Connected.Seconds(),
		RadioNoise:       noise,
	}
	if expectedKbps > 0 {
		st.StationThroughput = &StationThroughput{ExpectedThroughputMbps: float64(expectedKbps) / 1000}
	}
	return st
}

func ifaceMode(t wifi.InterfaceType) string {
	switch t {
	case wifi.InterfaceTypeAP:
		return "ap"
	case wifi.InterfaceTypeStation:
		return "sta"
	case wifi.InterfaceTypeAdHoc:
		return "adhoc"
	case wifi.InterfaceTypeMeshPoint:
		return "mesh"
	case wifi.InterfaceTypeMonitor:
		return "monitor"
	case wifi.InterfaceTypeAPVLAN:
		return "ap_vlan"
	case wifi.InterfaceTypeWDS:
		return "wds"
	}
	return "other"
}

// channelOf maps a frequency in MHz to its IEEE 802.11 channel number, 0 for
// unknown.
func channelOf(mhz int) int {
	switch {
	case mhz == 2484:
		return 14
	case mhz >= 2412 && mhz <= 2472:
		return (mhz - 2407) / 5
	case mhz >= 5955 && mhz <= 7115:
		return (mhz - 5950) / 5
	case mhz >= 5000 && mhz <= 5925:
		return (mhz - 5000) / 5
	case mhz >= 4910 && mhz <= 4980:
		return (mhz - 4000) / 5
	}
	return 0
}
