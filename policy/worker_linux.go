//go:build linux

package policy

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// progress is a page of memory shared by the engine and its worker: the
// worker writes which operation and item it is running (two stores, no
// system call), and a death note before it ends itself, so the engine knows
// whom to blame when the worker dies.
type progress struct{ p *[8]uint64 }

const (
	progSeq = iota
	progItem
	progCause
	progDetail
)

// newProgressFile creates the unlinked file behind the page.
func newProgressFile() (*os.File, progress, error) {
	f, err := os.CreateTemp("", "nodekeeper-policy-*")
	if err != nil {
		return nil, progress{}, fmt.Errorf("progress page: %w", err)
	}
	os.Remove(f.Name())
	if err := f.Truncate(4096); err != nil {
		f.Close()
		return nil, progress{}, fmt.Errorf("progress page: %w", err)
	}
	p, err := mapProgress(f)
	if err != nil {
		f.Close()
		return nil, progress{}, err
	}
	return f, p, nil
}

func mapProgress(f *os.File) (progress, error) {
	b, err := syscall.Mmap(int(f.Fd()), 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return progress{}, fmt.Errorf("progress page: mmap: %w", err)
	}
	return progress{(*[8]uint64)(unsafe.Pointer(&b[0]))}, nil
}

func (p progress) set(i int, v uint64) {
	if p.p != nil {
		atomic.StoreUint64(&p.p[i], v)
	}
}

func (p progress) get(i int) uint64 {
	if p.p == nil {
		return 0
	}
	return atomic.LoadUint64(&p.p[i])
}

func (p progress) setDeath(cause int, detail uint64) {
	p.set(progDetail, detail)
	p.set(progCause, uint64(cause))
}

// processCPU is the CPU time the process used so far (all threads).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// limitAddressSpace puts an RLIMIT_AS on the worker: what it maps now plus
// room, so one huge allocation ends the worker with an out-of-memory error
// instead of growing the node's memory.
func limitAddressSpace(extra int64) error {
	vm := vmSize()
	if vm == 0 {
		return nil
	}
	lim := uint64(vm + extra)
	return syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: lim, Max: lim})
}

// vmSize is the process's mapped address space in bytes.
func vmSize() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return 0
	}
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n * int64(os.Getpagesize())
}

// rssOf is the resident memory of a process in bytes (0 if unknown).
func rssOf(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.ParseInt(f[1], 10, 64)
	return n * int64(os.Getpagesize())
}

func workerSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
