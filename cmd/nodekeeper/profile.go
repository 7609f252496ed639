//go:build nk_pprof

package main

// Profiles of the real process, in a build with -tags nk_pprof only
// (runtime/pprof is not in the router binary):
//
//	NK_CPUPROFILE=FILE   CPU profile of the first NK_PROFILE_SECONDS (default 60)
//	NK_HEAPPROFILE=FILE  heap profile at the end of them (after a GC)
//	NK_HEAPPROF_DIR=DIR  heap profiles at intervals, of every nodekeeper
//	                     process that inherits the environment (the agent's
//	                     policy worker too): DIR/COMMAND-PID-SECONDS.pb.gz
//	                     every NK_HEAPPROF_EVERY seconds (default 30), and
//	                     one line of the runtime's memory figures each time
//	                     in DIR/COMMAND-PID.mem (the live heap after the
//	                     last collection, the goal, idle, released), to
//	                     tell a leak from a heap goal climbing. The
//	                     profiler's own buffers show in both.
//
// docs/telemetry.md ("Cost") tells how the figures there were found.

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"time"
)

func init() {
	if dir := os.Getenv("NK_HEAPPROF_DIR"); dir != "" {
		heapProfiles(dir)
	}
	cpu, heap := os.Getenv("NK_CPUPROFILE"), os.Getenv("NK_HEAPPROFILE")
	if cpu == "" && heap == "" {
		return
	}
	secs, err := strconv.Atoi(os.Getenv("NK_PROFILE_SECONDS"))
	if err != nil || secs <= 0 {
		secs = 60
	}
	if heap != "" {
		runtime.MemProfileRate = 4096 // the heap is a few MB: sample finely
	}
	var f *os.File
	if cpu != "" {
		if f, err = os.Create(cpu); err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			os.Stderr.WriteString("nk_pprof: " + err.Error() + "\n")
			return
		}
	}
	go func() {
		time.Sleep(time.Duration(secs) * time.Second)
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
		}
		if heap != "" {
			runtime.GC()
			if h, err := os.Create(heap); err == nil {
				pprof.WriteHeapProfile(h)
				h.Close()
			}
		}
		os.Stderr.WriteString("nk_pprof: profiles written\n")
	}()
}

// heapProfiles writes a heap profile and a line of memory figures to dir
// every NK_HEAPPROF_EVERY seconds, without forcing a collection (the
// figures are the heap as the process holds it).
func heapProfiles(dir string) {
	every, err := strconv.Atoi(os.Getenv("NK_HEAPPROF_EVERY"))
	if err != nil || every <= 0 {
		every = 30
	}
	runtime.MemProfileRate = 4096
	name := "nodekeeper"
	if len(os.Args) > 1 {
		name = filepath.Base(os.Args[1])
	}
	base := filepath.Join(dir, fmt.Sprintf("%s-%d", name, os.Getpid()))
	start := time.Now()
	go func() {
		for {
			time.Sleep(time.Duration(every) * time.Second)
			t := int(time.Since(start).Seconds())
			if h, err := os.Create(fmt.Sprintf("%s-%04d.pb.gz", base, t)); err == nil {
				pprof.WriteHeapProfile(h)
				h.Close()
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			gc := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/goal:bytes"}}
			metrics.Read(gc)
			if f, err := os.OpenFile(base+".mem", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
				fmt.Fprintf(f, "t=%d live=%d goal=%d heapalloc=%d heapinuse=%d heapidle=%d heapreleased=%d heapsys=%d nextgc=%d stack=%d sys=%d numgc=%d objects=%d\n",
					t, gc[0].Value.Uint64(), gc[1].Value.Uint64(), m.HeapAlloc, m.HeapInuse, m.HeapIdle, m.HeapReleased, m.HeapSys, m.NextGC, m.StackInuse, m.Sys, m.NumGC, m.HeapObjects)
				f.Close()
			}
		}
	}()
}
