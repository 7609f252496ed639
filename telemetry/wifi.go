package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/mdlayher/wifi"
)

func init() {
	registerCollector("wifi", true, func(Sources) Collector { return &wifiCollector{} })
}

// wifiCollector reports radios and stations through nl80211. A node without
// wifi (no nl80211 family, no wifi interfaces) gets empty lists, not an
// error.
type wifiCollector struct {
	c *wifi.Client
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
	if c.c == nil {
		if now.Before(c.absentUntil) {
			return nil
		}
		cl, err := wifi.New()
		if err != nil {
			if noWifi(err) {
				c.absentUntil = now.Add(wifiRecheck)
				return nil
			}
			return fmt.Errorf("nl80211: %w", err)
		}
		c.c = cl
	}
	ifis, err := c.c.Interfaces()
	if err != nil {
		c.c.Close()
		c.c = nil
		return fmt.Errorf("nl80211 interfaces: %w", err)
	}
	var errs []error
	for _, ifi := range ifis {
		if ifi.Name == "" {
			continue // a P2P device or similar without a netdev
		}
		stas, err := c.c.StationInfo(ifi)
		if err != nil && !noWifi(err) {
			errs = append(errs, fmt.Errorf("%s stations: %w", ifi.Name, err))
		}
		surveys, err := c.c.SurveyInfo(ifi)
		if err != nil && !noWifi(err) && !errors.Is(err, wifi.ErrNotSupported) {
			errs = append(errs, fmt.Errorf("%s survey: %w", ifi.Name, err))
		}
		ssid := ""
		if ifi.Type == wifi.InterfaceTypeStation {
			if bss, err := c.c.BSS(ifi); err == nil {
				ssid = bss.SSID
			}
		}
		r := mapRadio(ifi, ssid, surveys, len(stas))
		w.Radios = append(w.Radios, r)
		for _, s := range stas {
			w.Stations = append(w.Stations, mapStation(ifi.Name, s, r.RadioNoise))
		}
	}
	return errors.Join(errs...)
}

// noWifi tells errors that mean "no wifi here": nl80211 is not in the kernel
// or the interface has nothing to report.
func noWifi(err error) bool {
	return errors.Is(err, os.ErrNotExist)
}

// mapRadio maps an nl80211 interface to the document's radio. The noise
// floor comes from the survey of the channel in use.
func mapRadio(ifi *wifi.Interface, ssid string, surveys []*wifi.SurveyInfo, stations int) Radio {
	r := Radio{
		Name:         ifi.Name,
		Phy:          fmt.Sprintf("phy%d", ifi.PHY),
		Mode:         ifaceMode(ifi.Type),
		SSID:         ssid,
		FrequencyMHz: ifi.Frequency,
		Channel:      channelOf(ifi.Frequency),
		Stations:     stations,
	}
	if ifi.Frequency != 0 {
		r.ChannelWidth = ifi.ChannelWidth.String()
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
// in the library are in units of 100 kbit/s.
func mapStation(ifname string, s *wifi.StationInfo, noise *RadioNoise) Station {
	return Station{
		Ifname:           ifname,
		MAC:              s.HardwareAddr.String(),
		SignalDBm:        s.Signal,
		SignalAvgDBm:     s.SignalAverage,
		TxBitrateMbps:    float64(s.TransmitBitrate) / 10,
		RxBitrateMbps:    float64(s.ReceiveBitrate) / 10,
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
