package telemetry

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
)

// Route netlink constants (linux/rtnetlink.h, linux/if_link.h), declared here
// so the parser builds and is tested on any OS.
const (
	nlmsgHdrLen   = 16
	ifinfomsgLen  = 16
	nlmsgDone     = 3
	nlmsgError    = 2
	rtmNewLink    = 16
	iflaAddress   = 1
	iflaIfname    = 3
	iflaMTU       = 4
	iflaOperstate = 16
	iflaStats64   = 23
	iffUp         = 0x1
	iffRunning    = 0x40
)

// link is one network link from an RTM_GETLINK dump.
type link struct {
	index     int32
	flags     uint32
	name      string
	mtu       uint32
	mac       net.HardwareAddr
	operstate uint8
	hasStats  bool
	// The first eight counters of struct rtnl_link_stats64.
	rxPackets, txPackets, rxBytes, txBytes, rxErrors, txErrors, rxDropped, txDropped uint64
}

var operstates = [...]string{"unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"}

func (l *link) state() string {
	if int(l.operstate) < len(operstates) {
		return operstates[l.operstate]
	}
	return "unknown"
}

// errDumpDone marks the NLMSG_DONE message that ends a dump.
var errDumpDone = errors.New("netlink dump done")

// parseLinkMessages parses a buffer of netlink messages from an RTM_GETLINK
// dump, calling fn for each link. It returns errDumpDone when it met
// NLMSG_DONE, and an error naming the offset for malformed input.
func parseLinkMessages(b []byte, fn func(*link)) error {
	ne := binary.NativeEndian
	for off := 0; len(b) > 0; {
		if len(b) < nlmsgHdrLen {
			return fmt.Errorf("netlink message at offset %d: %d bytes, shorter than a header", off, len(b))
		}
		mlen := int(ne.Uint32(b[0:4]))
		typ := ne.Uint16(b[4:6])
		if mlen < nlmsgHdrLen || mlen > len(b) {
			return fmt.Errorf("netlink message at offset %d: length %d out of range (have %d)", off, mlen, len(b))
		}
		body := b[nlmsgHdrLen:mlen]
		switch typ {
		case nlmsgDone:
			return errDumpDone
		case nlmsgError:
			if len(body) >= 4 {
				if code := int32(ne.Uint32(body[0:4])); code != 0 {
					return fmt.Errorf("netlink error %d", -code)
				}
			}
		case rtmNewLink:
			var l link
			if err := parseLink(body, &l); err != nil {
				return fmt.Errorf("link message at offset %d: %w", off, err)
			}
			fn(&l)
		}
		adv := nlmsgAlign(mlen)
		if adv > len(b) {
			adv = len(b)
		}
		b = b[adv:]
		off += adv
	}
	return nil
}

func nlmsgAlign(n int) int { return (n + 3) &^ 3 }

// parseLink parses an ifinfomsg and its attributes.
func parseLink(b []byte, l *link) error {
	ne := binary.NativeEndian
	if len(b) < ifinfomsgLen {
		return fmt.Errorf("ifinfomsg: %d bytes, want %d", len(b), ifinfomsgLen)
	}
	l.index = int32(ne.Uint32(b[4:8]))
	l.flags = ne.Uint32(b[8:12])
	for a := b[ifinfomsgLen:]; len(a) >= 4; {
		alen := int(ne.Uint16(a[0:2]))
		typ := ne.Uint16(a[2:4]) & 0x3fff // strip NLA_F_NESTED and NLA_F_NET_BYTEORDER
		if alen < 4 || alen > len(a) {
			return fmt.Errorf("attribute type %d: length %d out of range (have %d)", typ, alen, len(a))
		}
		v := a[4:alen]
		switch typ {
		case iflaIfname:
			if i := indexByte(v, 0); i >= 0 {
				v = v[:i]
			}
			l.name = string(v)
		case iflaMTU:
			if len(v) >= 4 {
				l.mtu = ne.Uint32(v)
			}
		case iflaAddress:
			l.mac = net.HardwareAddr(v)
		case iflaOperstate:
			if len(v) >= 1 {
				l.operstate = v[0]
			}
		case iflaStats64:
			if len(v) >= 64 {
				l.hasStats = true
				l.rxPackets = ne.Uint64(v[0:])
				l.txPackets = ne.Uint64(v[8:])
				l.rxBytes = ne.Uint64(v[16:])
				l.txBytes = ne.Uint64(v[24:])
				l.rxErrors = ne.Uint64(v[32:])
				l.txErrors = ne.Uint64(v[40:])
				l.rxDropped = ne.Uint64(v[48:])
				l.txDropped = ne.Uint64(v[56:])
			}
		}
		adv := nlmsgAlign(alen)
		if adv > len(a) {
			break
		}
		a = a[adv:]
	}
	if l.name == "" {
		return fmt.Errorf("link index %d has no name", l.index)
	}
	return nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
