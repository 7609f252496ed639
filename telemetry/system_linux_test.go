package telemetry

import (
	"context"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSystemRealKernel reads this machine's /proc and checks the numbers
// against what the kernel reports through syscalls.
func TestSystemRealKernel(t *testing.T) {
	c := factories["system"].new(Sources{})
	doc := &Document{Collectors: map[string]CollectorStatus{}}
	if err := c.Collect(context.Background(), time.Now(), doc); err != nil {
		t.Fatal(err)
	}
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		t.Fatal(err)
	}
	s := doc.System
	if want := int64(si.Totalram) * int64(si.Unit); s.Memory.TotalBytes != want {
		t.Errorf("memory total %d, sysinfo says %d", s.Memory.TotalBytes, want)
	}
	if s.CPU.Count < runtime.NumCPU() {
		t.Errorf("cpu count %d < runtime.NumCPU() %d", s.CPU.Count, runtime.NumCPU())
	}
	if up := float64(si.Uptime); s.UptimeSeconds < up-2 || s.UptimeSeconds > up+2 {
		t.Errorf("uptime %v, sysinfo says %v", s.UptimeSeconds, up)
	}
	if s.Processes.Total < 1 {
		t.Errorf("processes %+v", s.Processes)
	}
	// The first sample has its CPU shares too (since boot): Home
	// Assistant's CPU sensor must not start unavailable.
	if p := s.CPU.CPUPercent; p == nil {
		t.Error("first sample has no CPU percentages")
	} else if sum := p.UserPercent + p.SystemPercent + p.IdlePercent + p.IowaitPercent + p.StealPercent; sum < 99.9 || sum > 100.1 {
		t.Errorf("first sample's cpu shares sum to %v: %+v", sum, *p)
	}
	if err := c.Collect(context.Background(), time.Now(), doc); err != nil {
		t.Fatal(err)
	}
	p := doc.System.CPU.CPUPercent
	if p == nil {
		t.Fatal("second sample has no CPU percentages")
	}
	if sum := p.UserPercent + p.SystemPercent + p.IdlePercent + p.IowaitPercent + p.StealPercent; sum < 99.9 || sum > 100.1 {
		t.Errorf("cpu shares sum to %v: %+v", sum, *p)
	}
}
