package telemetry

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// linkDumper asks the kernel for every link over a route netlink socket
// that stays open between dumps (it belongs to the network namespace the
// first dump ran in).
type linkDumper struct {
	fd   int
	open bool
	seq  uint32
	buf  []byte
}

// dump calls fn for each link. After an error the socket is closed and the
// next dump opens a new one.
func (d *linkDumper) dump(fn func(*link)) error {
	if !d.open {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("netlink socket: %w", err)
		}
		if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			unix.Close(fd)
			return fmt.Errorf("netlink bind: %w", err)
		}
		d.fd, d.open = fd, true
	}
	err := d.request(fn)
	if err != nil {
		d.close()
	}
	return err
}

func (d *linkDumper) request(fn func(*link)) error {
	d.seq++
	var req [nlmsgHdrLen + ifinfomsgLen]byte
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.RTM_GETLINK)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], d.seq)
	req[nlmsgHdrLen] = unix.AF_UNSPEC
	// The socket is non-blocking and its requests go to the kernel (the
	// default destination), so a raw write does: the kernel puts the dump's
	// first part in the socket before the write returns (rawsys_linux.go).
	if _, err := rawWrite(uintptr(d.fd), req[:]); err != nil {
		return fmt.Errorf("netlink send RTM_GETLINK: %w", err)
	}
	if len(d.buf) == 0 {
		d.buf = make([]byte, 32<<10)
	}
	for {
		n, err := rawRead(uintptr(d.fd), d.buf)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.EAGAIN) {
				if err := d.wait(); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("netlink receive: %w", err)
		}
		err = parseLinkMessages(d.buf[:n], fn)
		if errors.Is(err, errDumpDone) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// wait waits (up to 10 s) until the socket has something to read: the
// kernel had not produced the dump's next part yet.
func (d *linkDumper) wait() error {
	fds := []unix.PollFd{{Fd: int32(d.fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 10_000)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("netlink poll: %w", err)
		}
		if n == 0 {
			return errors.New("netlink: no answer to RTM_GETLINK within 10 s")
		}
		return nil
	}
}

func (d *linkDumper) close() {
	if d.open {
		unix.Close(d.fd)
		d.open = false
	}
}
