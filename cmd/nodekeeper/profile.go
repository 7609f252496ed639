//go:build nk_pprof

package main

// Profiles of the real process, in a build with -tags nk_pprof only
// (runtime/pprof is not in the router binary):
//
//	NK_CPUPROFILE=FILE   CPU profile of the first NK_PROFILE_SECONDS (default 60)
//	NK_HEAPPROFILE=FILE  heap profile at the end of them (after a GC)
//
// docs/telemetry.md ("Cost") tells how the figures there were found.

import (
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"
)

func init() {
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
