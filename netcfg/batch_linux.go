package netcfg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Requests are pipelined: many rtnetlink requests go to the kernel in one
// sendmsg, each with NLM_F_ACK and its own sequence number. The kernel
// handles them one after the other, in order, before sendmsg returns, and
// answers each; the answers are then read and matched to the requests by
// sequence number. A round trip per request (a context switch and, in Go, a
// trip through the poller) is what this saves.

// batchChunk bounds the requests in one sendmsg, so that their answers fit
// in the socket's receive buffer: an error answer echoes its request (a
// few hundred bytes), and the default buffer holds 200 KiB. A lost answer
// would leave a request's fate unknown.
const batchChunk = 64

// errNotSent is the result of a request that was not sent, because one
// before it failed.
var errNotSent = errors.New("not sent: an earlier request failed")

// rtnlBatch sends reqs on the Manager's rtnetlink socket and returns one
// result per request: nil when the kernel did it, its answer when it did
// not, errNotSent for the requests after a chunk that had a failure, and
// (should the socket itself fail) errNoAnswer for requests whose fate is
// unknown.
func (m *Manager) rtnlBatch(reqs []*nl.NetlinkRequest) []error {
	res := make([]error, len(reqs))
	s := m.rt.Socket
	s.Lock()
	defer s.Unlock()
	for lo := 0; lo < len(reqs); lo += batchChunk {
		hi := min(lo+batchChunk, len(reqs))
		m.sendChunk(reqs[lo:hi], res[lo:hi])
		if anyError(res[lo:hi]) {
			for i := hi; i < len(reqs); i++ {
				res[i] = errNotSent
			}
			break
		}
	}
	return res
}

// sendChunk sends reqs in one sendmsg and fills res from the answers.
func (m *Manager) sendChunk(reqs []*nl.NetlinkRequest, res []error) {
	fd := m.rt.Socket.GetFd()
	var buf []byte
	first := uint32(0)
	for i, r := range reqs {
		r.Flags |= unix.NLM_F_ACK
		r.Seq = atomic.AddUint32(&m.rt.Seq, 1)
		if i == 0 {
			first = r.Seq
		}
		buf = append(buf, r.Serialize()...)
	}
	answered := make([]bool, len(reqs))
	fail := func(err error) {
		for i := range res {
			if !answered[i] {
				res[i] = fmt.Errorf("%w: %w", errNoAnswer, err)
			}
		}
	}
	if err := retryEAGAIN(fd, unix.POLLOUT, func() error {
		return unix.Sendto(fd, buf, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
	}); err != nil {
		fail(fmt.Errorf("send %d netlink requests: %w", len(reqs), err))
		return
	}
	rb := make([]byte, 1<<16)
	for left := len(reqs); left > 0; {
		var n int
		err := retryEAGAIN(fd, unix.POLLIN, func() error {
			var err error
			n, _, err = unix.Recvfrom(fd, rb, 0)
			return err
		})
		var msgs []syscall.NetlinkMessage
		if err == nil {
			msgs, err = syscall.ParseNetlinkMessage(rb[:n])
		}
		if err != nil {
			fail(fmt.Errorf("read netlink answers: %w", err))
			return
		}
		for _, msg := range msgs {
			i := int(msg.Header.Seq - first)
			if msg.Header.Type != unix.NLMSG_ERROR || msg.Header.Seq < first || i >= len(reqs) || answered[i] {
				continue // not an answer to these requests
			}
			answered[i] = true
			res[i] = ackError(msg)
			left--
		}
	}
}

// errNoAnswer marks a request that got no answer because the socket
// failed: the kernel may or may not have done it.
var errNoAnswer = errors.New("no answer from the kernel")

// retryEAGAIN runs op on the non-blocking socket fd, waiting for it to be
// ready for ev while op says it would block. The kernel answers rtnetlink
// requests before sendmsg returns, so the wait is short; it is bounded all
// the same.
func retryEAGAIN(fd int, ev int16, op func() error) error {
	for {
		err := op()
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) {
			return err
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: ev}}
		n, err := unix.Poll(fds, 30_000)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return err
		}
		if n == 0 && err == nil {
			return fmt.Errorf("netlink socket: no answer in 30s: %w", unix.ETIMEDOUT)
		}
	}
}

// ackError is the error an NLMSG_ERROR answer carries (nil for a plain
// acknowledgement), with the kernel's extended message when it gave one.
func ackError(msg syscall.NetlinkMessage) error {
	d := msg.Data
	if len(d) < 4 {
		return errors.New("short netlink answer")
	}
	errno := int32(binary.NativeEndian.Uint32(d))
	if errno == 0 {
		return nil
	}
	err := error(syscall.Errno(-errno))
	if msg.Header.Flags&unix.NLM_F_ACK_TLVS == 0 || len(d) < 4+unix.SizeofNlMsghdr {
		return err
	}
	// The echoed request (whole, or its header when capped), then TLVs.
	skip := 4 + unix.SizeofNlMsghdr
	if msg.Header.Flags&unix.NLM_F_CAPPED == 0 {
		skip = 4 + nlAlign(int(binary.NativeEndian.Uint32(d[4:])))
	}
	for rest := d[min(skip, len(d)):]; len(rest) >= unix.SizeofRtAttr; {
		l := int(binary.NativeEndian.Uint16(rest))
		if l < unix.SizeofRtAttr || l > len(rest) {
			break
		}
		if binary.NativeEndian.Uint16(rest[2:]) == nl.NLMSGERR_ATTR_MSG {
			err = fmt.Errorf("%w: %s", err, unix.ByteSliceToString(rest[unix.SizeofRtAttr:l]))
		}
		rest = rest[min(nlAlign(l), len(rest)):]
	}
	return err
}

func nlAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// anyError tells whether errs holds an error (slices.ContainsFunc without
// its instantiation in the router binary).
func anyError(errs []error) bool {
	for _, err := range errs {
		if err != nil {
			return true
		}
	}
	return false
}
