package telemetry

import (
	"encoding/binary"
	"strings"
	"testing"
)

// nlAttr encodes one route netlink attribute, padded.
func nlAttr(typ uint16, v []byte) []byte {
	b := make([]byte, 4, nlmsgAlign(4+len(v)))
	binary.NativeEndian.PutUint16(b[0:], uint16(4+len(v)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	b = append(b, v...)
	return append(b, make([]byte, nlmsgAlign(len(b))-len(b))...)
}

// nlLinkMsg encodes an RTM_NEWLINK message.
func nlLinkMsg(index int32, flags uint32, attrs ...[]byte) []byte {
	body := make([]byte, ifinfomsgLen)
	binary.NativeEndian.PutUint32(body[4:], uint32(index))
	binary.NativeEndian.PutUint32(body[8:], flags)
	for _, a := range attrs {
		body = append(body, a...)
	}
	return nlMsg(rtmNewLink, body)
}

func nlMsg(typ uint16, body []byte) []byte {
	b := make([]byte, nlmsgHdrLen)
	binary.NativeEndian.PutUint32(b[0:], uint32(nlmsgHdrLen+len(body)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	return append(b, body...)
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

func stats64(vals ...uint64) []byte {
	b := make([]byte, 0, 24*8)
	for i := range 24 {
		var v uint64
		if i < len(vals) {
			v = vals[i]
		}
		b = binary.NativeEndian.AppendUint64(b, v)
	}
	return b
}

func TestParseLinkMessages(t *testing.T) {
	eth := nlLinkMsg(2, iffUp|iffRunning,
		nlAttr(iflaIfname, []byte("eth0\x00")),
		nlAttr(iflaMTU, u32(1500)),
		nlAttr(iflaAddress, []byte{2, 0xfc, 0, 0, 0, 1}),
		nlAttr(iflaOperstate, []byte{6}),
		nlAttr(iflaStats64, stats64(10, 20, 1000, 2000, 1, 2, 3, 4)),
		nlAttr(999|0x8000, []byte{1, 2, 3}), // unknown nested attribute: skipped
	)
	wlan := nlLinkMsg(3, iffUp, nlAttr(iflaIfname, []byte("wlan0\x00")), nlAttr(iflaOperstate, []byte{2}))
	buf := append(append(eth, wlan...), nlMsg(nlmsgDone, u32(0))...)
	var got []link
	err := parseLinkMessages(buf, func(l *link) { got = append(got, *l) })
	if err != errDumpDone {
		t.Fatalf("err %v, want errDumpDone", err)
	}
	if len(got) != 2 {
		t.Fatalf("%d links", len(got))
	}
	e := got[0]
	if e.name != "eth0" || e.mtu != 1500 || e.mac.String() != "02:fc:00:00:00:01" || e.state() != "up" || !e.hasStats ||
		e.rxPackets != 10 || e.txPackets != 20 || e.rxBytes != 1000 || e.txBytes != 2000 || e.rxErrors != 1 || e.txErrors != 2 || e.rxDropped != 3 || e.txDropped != 4 {
		t.Errorf("eth0: %+v", e)
	}
	if ifc := linkToInterface(&got[1]); ifc.State != "down" || ifc.Up != 0 || ifc.MAC != "" {
		t.Errorf("wlan0: %+v", ifc)
	}

	bad := []struct {
		name, want string
		buf        []byte
	}{
		{"short header", "shorter than a header", []byte{1, 2, 3}},
		{"length past end", "out of range", nlMsg(rtmNewLink, make([]byte, 16))[:20]},
		{"attribute past end", "attribute type 3", nlLinkMsg(1, 0, []byte{200, 0, 3, 0, 'x', 0, 0, 0})},
		{"no name", "has no name", nlLinkMsg(7, 0, nlAttr(iflaMTU, u32(1500)))},
		{"netlink error", "netlink error 1", nlMsg(nlmsgError, binary.NativeEndian.AppendUint32(nil, uint32(0xffffffff)))},
	}
	for _, tt := range bad {
		err := parseLinkMessages(tt.buf, func(*link) {})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func FuzzParseLinkMessages(f *testing.F) {
	f.Add(nlLinkMsg(2, 1, nlAttr(iflaIfname, []byte("eth0\x00")), nlAttr(iflaStats64, stats64(1, 2, 3))))
	f.Add(nlMsg(nlmsgDone, u32(0)))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseLinkMessages(b, func(l *link) {
			if l.name == "" {
				t.Fatal("a link without a name was accepted")
			}
			_ = linkToInterface(l)
		})
	})
}
