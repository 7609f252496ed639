package netcfg

import (
	"encoding/binary"
	"errors"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// ackMsg builds an NLMSG_ERROR answer to a request of reqLen bytes, the
// request echoed whole or (capped) its header only, with an extended
// message when msg is not empty.
func ackMsg(errno int32, reqLen int, capped bool, msg string) syscall.NetlinkMessage {
	ne := binary.NativeEndian
	d := ne.AppendUint32(nil, uint32(errno))
	hdr := make([]byte, unix.SizeofNlMsghdr)
	ne.PutUint32(hdr, uint32(reqLen))
	d = append(d, hdr...)
	var flags uint16
	if capped {
		flags |= unix.NLM_F_CAPPED
	} else {
		d = append(d, make([]byte, nlAlign(reqLen)-unix.SizeofNlMsghdr)...)
	}
	if msg != "" {
		flags |= unix.NLM_F_ACK_TLVS
		v := append([]byte(msg), 0)
		d = ne.AppendUint16(d, uint16(unix.SizeofRtAttr+len(v)))
		d = ne.AppendUint16(d, nl.NLMSGERR_ATTR_MSG)
		d = append(d, v...)
		d = append(d, make([]byte, nlAlign(len(v))-len(v))...)
	}
	return syscall.NetlinkMessage{Header: syscall.NlMsghdr{Type: unix.NLMSG_ERROR, Flags: flags}, Data: d}
}

func TestAckError(t *testing.T) {
	for _, c := range []struct {
		name  string
		msg   syscall.NetlinkMessage
		errno error // nil: no error
		text  string
	}{
		{"acknowledgement", ackMsg(0, 40, false, ""), nil, ""},
		{"refusal", ackMsg(-int32(unix.EEXIST), 40, false, ""), unix.EEXIST, "file exists"},
		{"refusal with a message", ackMsg(-int32(unix.EINVAL), 42, false, "mtu greater than device maximum"), unix.EINVAL, "invalid argument: mtu greater than device maximum"},
		{"capped refusal with a message", ackMsg(-int32(unix.ENODEV), 300, true, "Unknown device type"), unix.ENODEV, "no such device: Unknown device type"},
		{"short", syscall.NetlinkMessage{Data: []byte{1}}, nil, "short netlink answer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := ackError(c.msg)
			switch {
			case c.text == "" && err != nil:
				t.Fatalf("ackError = %v, want nil", err)
			case c.text != "" && (err == nil || err.Error() != c.text):
				t.Fatalf("ackError = %v, want %q", err, c.text)
			case c.errno != nil && !errors.Is(err, c.errno):
				t.Fatalf("ackError = %v, does not wrap %v", err, c.errno)
			}
		})
	}
}
