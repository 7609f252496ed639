package telemetry

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// dumpLinks asks the kernel (in the calling thread's network namespace) for
// every link and calls fn for each. buf is a receive buffer the caller keeps
// between calls; the grown buffer is returned.
func dumpLinks(buf []byte, fn func(*link)) ([]byte, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return buf, fmt.Errorf("netlink socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return buf, fmt.Errorf("netlink bind: %w", err)
	}
	var req [nlmsgHdrLen + ifinfomsgLen]byte
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.RTM_GETLINK)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], 1)
	req[nlmsgHdrLen] = unix.AF_UNSPEC
	if err := unix.Sendto(fd, req[:], 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return buf, fmt.Errorf("netlink send RTM_GETLINK: %w", err)
	}
	if cap(buf) < 32<<10 {
		buf = make([]byte, 32<<10)
	}
	buf = buf[:cap(buf)]
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return buf, fmt.Errorf("netlink receive: %w", err)
		}
		err = parseLinkMessages(buf[:n], fn)
		if errors.Is(err, errDumpDone) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
