package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"time"
)

// daemonRuntime tunes the Go runtime for the long-running processes (the
// agent, `telemetry publish`), unless the environment sets it
// (docs/telemetry.md, "Cost", has the figures):
//
// GOMAXPROCS 1: they do little work, in short bursts (a sample a second,
// its publishes, an acknowledgement). With a P per core, each hand-off
// between their goroutines wakes another thread, and the futex wake-ups and
// context switches cost more than the work. Most routers have one or two
// cores anyway; the policy worker, a process of its own, keeps its default.
//
// GOGC gcPercent: their live heap is small (about 130 kB for `telemetry
// publish`) and the default goal (4 MB at least) lets a router's scarce
// memory fill with garbage for minutes: with 25, `telemetry publish` holds
// 3.6 MB of anonymous memory instead of 5.8, for no CPU measurable at a
// 1 s interval.
func daemonRuntime(gcPercent int) {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	pageOutAfter(10 * time.Second)
}

// pageOutAfter gives back the binary's startup pages after d, and from
// then on the heap's free pages every minute (pageout_linux.go), unless
// NK_PAGEOUT=0.
func pageOutAfter(d time.Duration) {
	if os.Getenv("NK_PAGEOUT") != "0" {
		pageOutStartup(d)
	}
}
