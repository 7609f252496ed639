package telemetry

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Syscalls that never block, made without telling the Go scheduler.
//
// A syscall through package syscall or x/sys/unix enters the scheduler's
// syscall state, and the first one after an idle second wakes the
// runtime's monitor thread (sysmon), which then polls every 20 µs until the
// process is idle again, so that it can hand the P of a blocked syscall to
// another thread. In `telemetry publish` that was a third of the
// process's CPU time per cycle on the development machine, for syscalls that
// cannot block: a pread of a /proc file, a netlink dump the kernel answers
// before the send returns, a statfs of a local filesystem, a read or write
// on a non-blocking socket (docs/telemetry.md, "Cost"). These go through
// syscall.RawSyscall instead; anything that can wait (a socket with nothing
// to read, a full send buffer, a network filesystem) still takes the
// ordinary path.

// rawPread0 reads from offset 0 of fd. The offset's argument words are all
// zero, so the call is the same on 32- and 64-bit ABIs (mips o32 pads the
// 64-bit offset to an even register pair).
func rawPread0(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall6(unix.SYS_PREAD64, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// rawRead reads from fd, which must be non-blocking.
func rawRead(fd uintptr, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// rawWrite writes to fd, which must be non-blocking.
func rawWrite(fd uintptr, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// ubifsMagic is UBIFS's f_type (x/sys/unix has no name for it).
const ubifsMagic = 0x24051905

// localFS reports whether a statfs f_type is a filesystem whose statfs
// answers from memory (never waits on a network or a FUSE daemon).
func localFS(magic int64) bool {
	switch uint32(magic) {
	case unix.TMPFS_MAGIC, unix.RAMFS_MAGIC, unix.OVERLAYFS_SUPER_MAGIC,
		unix.SQUASHFS_MAGIC, unix.JFFS2_SUPER_MAGIC, ubifsMagic,
		unix.F2FS_SUPER_MAGIC, unix.EXT4_SUPER_MAGIC, unix.BTRFS_SUPER_MAGIC,
		unix.XFS_SUPER_MAGIC, unix.MSDOS_SUPER_MAGIC, unix.EXFAT_SUPER_MAGIC,
		unix.PROC_SUPER_MAGIC, unix.SYSFS_MAGIC, unix.CGROUP2_SUPER_MAGIC:
		return true
	}
	return false
}

// rawConn is a TCP connection whose reads and writes are raw syscalls on
// its non-blocking socket; when the socket is not ready they wait in Go's
// network poller as net.Conn does (deadlines included). The callbacks given
// to the poller are made once and keep their state in the rawConn (a
// closure per call was an allocation per read and write); a mutex per
// direction keeps that state to one caller at a time.
type rawConn struct {
	net.Conn
	rc syscall.RawConn

	rmu    sync.Mutex
	rbuf   []byte
	rn     int
	rerr   error
	readFn func(uintptr) bool

	wmu     sync.Mutex
	wbuf    []byte
	wdone   int
	werr    error
	writeFn func(uintptr) bool
}

// newRawConn wraps a *net.TCPConn (anything else is returned as it is).
func newRawConn(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	r := &rawConn{Conn: c, rc: rc}
	r.readFn, r.writeFn = r.readOnce, r.writeSome
	return r
}

// readOnce is the poller's read callback: false asks it to wait.
func (c *rawConn) readOnce(fd uintptr) bool {
	for {
		c.rn, c.rerr = rawRead(fd, c.rbuf)
		if c.rerr != unix.EINTR {
			return c.rerr != unix.EAGAIN
		}
	}
}

// writeSome is the poller's write callback: false asks it to wait.
func (c *rawConn) writeSome(fd uintptr) bool {
	for c.wdone < len(c.wbuf) {
		n, err := rawWrite(fd, c.wbuf[c.wdone:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			c.werr = err
			return err != unix.EAGAIN
		}
		c.wdone += n
	}
	c.werr = nil
	return true
}

func (c *rawConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.rbuf, c.rn, c.rerr = b, 0, nil
	err := c.rc.Read(c.readFn)
	n := c.rn
	if err == nil {
		err = c.rerr
	}
	c.rbuf = nil
	if err != nil {
		return 0, c.opError("read", err)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (c *rawConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf, c.wdone, c.werr = b, 0, nil
	err := c.rc.Write(c.writeFn)
	done := c.wdone
	if err == nil {
		err = c.werr
	}
	c.wbuf = nil
	if err != nil {
		return done, c.opError("write", err)
	}
	return done, nil
}

func (c *rawConn) opError(op string, err error) error {
	var ne *net.OpError
	if errors.As(err, &ne) {
		return err // from the poller: a deadline or a closed connection
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
