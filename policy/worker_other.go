//go:build !linux

package policy

import (
	"os"
	"syscall"
	"time"
)

// Outside Linux the worker runs without a shared progress page or kernel
// limits: the in-process watchdog and the engine's deadline still hold.
type progress struct{}

const (
	progSeq = iota
	progItem
	progCause
	progDetail
)

func newProgressFile() (*os.File, progress, error) { return nil, progress{}, nil }
func mapProgress(*os.File) (progress, error)       { return progress{}, nil }
func (progress) set(int, uint64)                   {}
func (progress) get(int) uint64                    { return 0 }
func (progress) setDeath(int, uint64)              {}
func processCPU() time.Duration                    { return 0 }
func limitAddressSpace(int64) error                { return nil }
func rssOf(int) int64                              { return 0 }
func workerSysProcAttr() *syscall.SysProcAttr      { return nil }
