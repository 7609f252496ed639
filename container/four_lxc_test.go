package container

import (
	"fmt"
	"sync"
	"testing"

	"github.com/nodekeeper/nodekeeper/netcfg"
)

// TestFourSlivers starts four limited slivers at once on this small machine,
// keeps them busy, and reads each one's CPU and memory use from its
// cgroups through the init PID that List reports (as telemetry does).
func TestFourSlivers(t *testing.T) {
	l := newLab(t)
	m, _ := l.open("")
	ctx := ctxT(t)
	tmpl := l.busybox()
	var names []string
	for i := 0; i < 4; i++ {
		names = append(names, fmt.Sprintf("four%d-%s", i, randHex(6)))
	}
	parallel := func(f func(name string) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, len(names))
		for i, n := range names {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = f(n) }()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	parallel(func(n string) error {
		_, err := m.Create(ctx, Spec{Name: n, Slice: "four", Template: tmpl, Request: Start,
			Resources:  Resources{MemoryBytes: 32 << 20, CPUMillicores: 250, Pids: 32},
			Interfaces: []Interface{{Kind: netcfg.Private}}})
		return err
	})
	st, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 4 {
		t.Fatalf("List has %d slivers, want 4", len(st))
	}
	ids := map[int]bool{}
	for _, s := range st {
		if s.State != Started || s.PID <= 0 || len(s.HostInterfaces) != 1 || ids[s.ID] {
			t.Fatalf("status %+v: want started, a PID, one host interface, a distinct id", s)
		}
		ids[s.ID] = true
		// A busy loop in the background of each sliver.
		if _, code := attach(t, m, s.Name, "sh", "-c", "while :; do :; done </dev/null >/dev/null 2>&1 &"); code != 0 {
			t.Fatalf("attach to %s: exit %d", s.Name, code)
		}
	}
	first := map[string]int64{}
	for _, s := range st {
		cpu, mem, err := usage(s.PID)
		if err != nil {
			t.Fatalf("usage of %s: %v", s.Name, err)
		}
		if mem <= 0 || mem > 32<<20 {
			t.Errorf("sliver %s uses %d bytes of memory, want some and within its 32 MiB", s.Name, mem)
		}
		first[s.Name] = cpu
	}
	for _, s := range st {
		eventually(t, "CPU use of "+s.Name+" grows", func() error {
			cpu, _, err := usage(s.PID)
			if err != nil {
				return err
			}
			if cpu <= first[s.Name] {
				return fmt.Errorf("cpu %d ns, was %d", cpu, first[s.Name])
			}
			return nil
		})
		if lim, err := m.Limits(ctx, s.Name); err != nil || lim.CPUMillicores != 250 || lim.MemoryBytes != 32<<20 {
			t.Errorf("limits of %s: %+v %v", s.Name, lim, err)
		}
	}
	parallel(func(n string) error { return m.Remove(ctx, n) })
	for _, s := range st {
		nothingLeft(t, l, m, s.Name, s.HostInterfaces)
	}
}
