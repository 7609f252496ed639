//go:build ignore

// telemetry-floor is the floor experiment of scripts/bench/telemetry.sh: a
// Go program that does, once a second, only the syscalls a telemetry cycle
// needs and nothing else: pread the five /proc files the system collector
// reads, one RTM_GETLINK netlink dump, statfs of / and /tmp, one write of
// nine QoS 1 PUBLISH packets (about 300 bytes of payload each, as a cycle's
// messages) to the broker and the reads of their nine PUBACKs. No parsing, no
// encoding, no allocation per cycle, GOMAXPROCS 1, the syscalls made as
// nodekeeper makes them (telemetry/rawsys_linux.go). Its CPU per cycle, run
// beside nodekeeper, is what the Go runtime and the kernel cost on the
// machine before nodekeeper's own work:
//
//	go run scripts/bench/telemetry-floor.go HOST:PORT
package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	runtime.GOMAXPROCS(1)
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: telemetry-floor HOST:PORT")
		os.Exit(2)
	}
	c, err := net.Dial("tcp", os.Args[1])
	check(err)
	rc, err := c.(*net.TCPConn).SyscallConn()
	check(err)
	// CONNECT (MQTT 3.1.1, clean session, keepalive 60 s), then CONNACK.
	id := "floor"
	conn := []byte{0x10, byte(10 + 2 + len(id)), 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, byte(len(id))}
	conn = append(conn, id...)
	_, err = c.Write(conn)
	check(err)
	ack := make([]byte, 4)
	_, err = c.Read(ack)
	check(err)

	var files []int
	for _, p := range []string{"/proc/uptime", "/proc/loadavg", "/proc/stat", "/proc/meminfo", "/proc/self/statm"} {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		check(err)
		files = append(files, fd)
	}
	nl, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
	check(err)
	check(unix.Bind(nl, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}))
	buf := make([]byte, 32<<10)
	out := make([]byte, 0, 4096)
	payload := make([]byte, 300)
	var req [32]byte
	var st unix.Statfs_t
	var roots []*byte
	for _, p := range []string{"/", "/tmp"} {
		b, err := unix.BytePtrFromString(p)
		check(err)
		roots = append(roots, b)
	}
	mid := uint16(0)
	tick := time.NewTicker(time.Second)
	for range tick.C {
		for _, fd := range files {
			raw(unix.SYS_PREAD64, uintptr(fd), buf, 0)
		}
		binary.NativeEndian.PutUint32(req[0:], 32)
		binary.NativeEndian.PutUint16(req[4:], unix.RTM_GETLINK)
		binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
		req[16] = unix.AF_UNSPEC
		raw(unix.SYS_WRITE, uintptr(nl), req[:], 0)
		for {
			n := raw(unix.SYS_READ, uintptr(nl), buf, 0)
			if n <= 0 || doneMsg(buf[:n]) {
				break
			}
		}
		for _, p := range roots {
			syscall.RawSyscall(unix.SYS_STATFS, uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&st)), 0)
		}
		out = out[:0]
		for i := 0; i < 9; i++ {
			mid++
			if mid == 0 {
				mid = 1
			}
			topic := "floor/telemetry/x"
			rl := 2 + len(topic) + 2 + len(payload)
			out = append(out, 0x32, byte(rl&0x7f|0x80), byte(rl>>7), 0, byte(len(topic)))
			out = append(out, topic...)
			out = append(out, byte(mid>>8), byte(mid))
			out = append(out, payload...)
		}
		rc.Write(func(fd uintptr) bool { return raw(unix.SYS_WRITE, fd, out, 0) != -int(unix.EAGAIN) })
		got := 0
		for got < 9*4 {
			rc.Read(func(fd uintptr) bool {
				n := raw(unix.SYS_READ, fd, buf, 0)
				if n == -int(unix.EAGAIN) {
					return false
				}
				if n > 0 {
					got += n
				} else {
					got = 9 * 4 // the broker went away: the next write fails
				}
				return true
			})
		}
	}
}

// raw makes a syscall without the scheduler; the result, or -errno.
func raw(trap uintptr, fd uintptr, b []byte, _ int) int {
	n, _, e := syscall.RawSyscall6(trap, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0, 0, 0)
	if e != 0 {
		return -int(e)
	}
	return int(n)
}

// doneMsg reports whether a netlink read holds NLMSG_DONE.
func doneMsg(b []byte) bool {
	for len(b) >= 16 {
		l := int(binary.NativeEndian.Uint32(b))
		if binary.NativeEndian.Uint16(b[4:]) == unix.NLMSG_DONE {
			return true
		}
		if l < 16 || l > len(b) {
			return true
		}
		b = b[(l+3)&^3:]
	}
	return false
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "telemetry-floor:", err)
		os.Exit(1)
	}
}
