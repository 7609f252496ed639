package policy

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// The watchdog enforces the budgets inside the worker. While a load or an
// evaluation runs, a timer checks every few milliseconds the CPU time the
// worker used since the item began and the Go heap. Over budget, it cancels
// the item's context: the Lua VM stops at its next instruction with a clear
// error. An item that keeps running anyway (inside a builtin, which does
// not look at the context) or keeps growing is past saving: the watchdog
// leaves a death note in the progress page and ends the worker, which the
// engine restarts. The kernel's limits (RLIMIT_AS) and the engine's own
// polling back this up.

// Causes of a cancellation, as recorded in the progress page.
const (
	causeNone   = 0
	causeCPU    = 1
	causeMemory = 2
)

// watchdogTick is how often a running item is checked.
const watchdogTick = 2 * time.Millisecond

type watchdog struct {
	budget Budget
	prog   progress
	exit   func(code int) // os.Exit in the worker

	mu       sync.Mutex
	ctx      context.Context
	cancel   context.CancelFunc
	active   bool
	item     uint64
	startCPU time.Duration
	limit    time.Duration
	cause    int
	heapBase uint64 // heap held by loaded policies, measured between items
	softHeap uint64 // cancel above this
	hardHeap uint64 // end the worker above this
	timer    *time.Timer
	sample   []metrics.Sample
}

func newWatchdog(b Budget, prog progress, exit func(int)) *watchdog {
	wd := &watchdog{budget: b, prog: prog, exit: exit,
		sample: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
	wd.ctx, wd.cancel = context.WithCancel(context.Background())
	wd.timer = time.AfterFunc(time.Hour, wd.check)
	wd.timer.Stop()
	wd.rebase()
	return wd
}

func (wd *watchdog) heap() uint64 {
	metrics.Read(wd.sample)
	return wd.sample[0].Value.Uint64()
}

// rebase records the heap the loaded files hold; the memory budget is on
// top of it. Called after loads, when the worker is idle.
func (wd *watchdog) rebase() {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	wd.heapBase = wd.heap()
	wd.softHeap = wd.heapBase + uint64(wd.budget.Memory)
	wd.hardHeap = wd.heapBase + 2*uint64(wd.budget.Memory) + 8<<20
}

// begin starts an item and returns the context to run it under.
func (wd *watchdog) begin() context.Context { return wd.beginWith(wd.budget.CPU) }

// beginWith starts an item with its own CPU limit.
func (wd *watchdog) beginWith(limit time.Duration) context.Context {
	cpu := processCPU()
	wd.mu.Lock()
	if wd.cause != causeNone {
		wd.ctx, wd.cancel = context.WithCancel(context.Background())
		wd.cause = causeNone
	}
	wd.active = true
	wd.item++
	wd.startCPU = cpu
	wd.limit = limit
	ctx := wd.ctx
	wd.mu.Unlock()
	wd.timer.Reset(watchdogTick)
	return ctx
}

// end finishes the item and returns why it was cancelled, if it was.
func (wd *watchdog) end() int {
	wd.timer.Stop()
	wd.mu.Lock()
	defer wd.mu.Unlock()
	wd.active = false
	return wd.cause
}

func (wd *watchdog) check() {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if !wd.active {
		return
	}
	used := processCPU() - wd.startCPU
	heap := wd.heap()
	if heap > wd.hardHeap || (wd.cause == causeNone && heap > wd.softHeap) {
		// The heap counts garbage that earlier items left behind, which
		// is not this item's doing: collect it before blaming anyone.
		runtime.GC()
		heap = wd.heap()
	}
	switch {
	case heap > wd.hardHeap:
		wd.die(causeMemory, heap)
	case wd.cause == causeNone && used >= wd.limit:
		wd.cause = causeCPU
		wd.cancel()
	case wd.cause == causeNone && heap > wd.softHeap:
		wd.cause = causeMemory
		wd.cancel()
	case wd.cause != causeNone && used >= wd.limit+max(wd.limit, 100*time.Millisecond):
		// Cancelled but still running: stuck in a builtin.
		wd.die(wd.cause, uint64(used))
	}
	wd.timer.Reset(watchdogTick)
}

// die leaves a death note and ends the worker.
func (wd *watchdog) die(cause int, detail uint64) {
	if wd.cause == causeNone || cause == causeMemory {
		wd.cause = cause
	}
	wd.prog.setDeath(wd.cause, detail)
	wd.exit(3)
}
