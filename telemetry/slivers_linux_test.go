package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testCgroup creates a cgroup (v1: in the cpuacct, memory and pids
// hierarchies; v2: one directory) that is removed when the test ends.
// It returns the directories to write cgroup.procs into and the memory one.
func testCgroup(t *testing.T, limit int64) (dirs []string, memDir string, v2 bool) {
	t.Helper()
	needRoot(t)
	name := randName("nktel")
	if _, err := os.Stat("/sys/fs/cgroup/memory"); err == nil {
		for _, h := range []string{"cpuacct", "memory", "pids"} {
			d := filepath.Join("/sys/fs/cgroup", h, name)
			if err := os.Mkdir(d, 0o755); err != nil {
				needEnv(t, "cgroup "+h, err)
			}
			dirs = append(dirs, d)
		}
		memDir = dirs[1]
		if err := os.WriteFile(filepath.Join(memDir, "memory.limit_in_bytes"), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
			t.Fatal(err)
		}
	} else {
		v2 = true
		d := filepath.Join("/sys/fs/cgroup", name)
		if err := os.Mkdir(d, 0o755); err != nil {
			needEnv(t, "cgroup v2", err)
		}
		dirs, memDir = []string{d}, d
		if err := os.WriteFile(filepath.Join(d, "memory.max"), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
			needEnv(t, "cgroup v2 memory controller", err)
		}
	}
	t.Cleanup(func() {
		for _, d := range dirs {
			for i := 0; i < 50; i++ { // the last task may take a moment to leave
				if err := os.Remove(d); err == nil || errors.Is(err, os.ErrNotExist) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	})
	return dirs, memDir, v2
}

// TestSliversRealCgroup puts a real process in a cgroup made for the test,
// gives it a host-side veth in a namespace, and checks what the collector
// reads.
func TestSliversRealCgroup(t *testing.T) {
	const limit = 48 << 20
	dirs, _, _ := testCgroup(t, limit)
	hostNS, ctNS := newNetns(t), newNetns(t)
	host, ct := randName("nkh"), randName("nkc")
	run(t, "ip", "-n", hostNS, "link", "add", host, "type", "veth", "peer", "name", ct, "netns", ctNS)
	run(t, "ip", "-n", hostNS, "addr", "add", "192.0.2.1/24", "dev", host)
	run(t, "ip", "-n", ctNS, "addr", "add", "192.0.2.2/24", "dev", ct)
	run(t, "ip", "-n", hostNS, "link", "set", host, "up")
	run(t, "ip", "-n", ctNS, "link", "set", ct, "up")

	// The "container": a shell that waits to be placed in the cgroup, burns
	// some CPU, then sleeps.
	cmd := exec.Command("sh", "-c", `read x; i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exec sleep 600`)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := cmd.Process.Pid
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stdin.Write([]byte("go\n"))
	deadline := time.Now().Add(2 * time.Minute)
	for {
		comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		if strings.TrimSpace(string(comm)) == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the test process never finished its CPU loop")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The sliver sends ten datagrams out of its interface.
	run(t, "ip", "netns", "exec", ctNS, "bash", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do echo hello > /dev/udp/192.0.2.1/9 || exit 1; done")

	lister := fixedSlivers{
		{Name: "s1", Slice: "exp", ID: 1, State: "running", PID: pid, HostIfaces: []string{host}},
		{Name: "s2", ID: 2, State: "running", PID: pid, HostIfaces: []string{"nk-missing0"}},
		{Name: "s3", ID: 3, State: "stopped", MemoryLimitBytes: 1 << 20},
	}
	c := factories["slivers"].new(Sources{Slivers: lister})
	doc := &Document{}
	before := hostCounters(t, hostNS, host)
	inNetns(t, hostNS, func() { err = c.Collect(context.Background(), time.Now(), doc) })
	if err != nil {
		t.Fatal(err)
	}
	after := hostCounters(t, hostNS, host)
	if len(doc.Slivers) != 3 {
		t.Fatalf("slivers: %+v", doc.Slivers)
	}
	s := doc.Slivers[0]
	if s.Error != "" || s.Name != "s1" || s.Slice != "exp" || s.State != "running" {
		t.Errorf("sliver: %+v", s)
	}
	if s.MemoryLimitBytes != limit {
		t.Errorf("memory limit %d, want %d", s.MemoryLimitBytes, limit)
	}
	if s.MemoryBytes <= 0 || s.MemoryBytes > limit {
		t.Errorf("memory %d, want within (0, %d]", s.MemoryBytes, limit)
	}
	if s.Pids != 1 {
		t.Errorf("pids %d, want 1 (the sleep)", s.Pids)
	}
	if s.CPUSecondsTotal <= 0 {
		t.Errorf("cpu seconds %v, want > 0 after the loop", s.CPUSecondsTotal)
	}
	// The host side received what the sliver sent: the kernel may send
	// packets of its own on the link at any time (IPv6 neighbour
	// discovery, MLD), so the collector's counters lie between the host
	// side's read before and after it.
	if s.TxBytesTotal < before.rx || s.TxBytesTotal > after.rx || s.RxBytesTotal < before.tx || s.RxBytesTotal > after.tx || s.TxBytesTotal < 10*30 {
		t.Errorf("sliver rx %d tx %d, host side rx %d..%d tx %d..%d", s.RxBytesTotal, s.TxBytesTotal, before.rx, after.rx, before.tx, after.tx)
	}
	if s.SliverRates != nil {
		t.Error("first sample has rates")
	}
	if e := doc.Slivers[1].Error; !strings.Contains(e, "nk-missing0 not found") {
		t.Errorf("missing interface error %q", e)
	}
	if st := doc.Slivers[2]; st.MemoryLimitBytes != 1<<20 || st.Error != "" {
		t.Errorf("stopped sliver: %+v", st)
	}
	// A second sample has rates; the CPU loop is over, so CPU use is low.
	inNetns(t, hostNS, func() { err = c.Collect(context.Background(), time.Now().Add(time.Second), doc) })
	if err != nil || doc.Slivers[0].SliverRates == nil {
		t.Fatalf("second sample: %v %+v", err, doc.Slivers[0])
	}
}

// linkCounters are an interface's byte counters.
type linkCounters struct{ rx, tx uint64 }

// hostCounters reads the byte counters of link in netns ns with ip(8).
func hostCounters(t *testing.T, ns, link string) linkCounters {
	t.Helper()
	var ip []struct {
		Stats64 struct {
			Rx struct{ Bytes uint64 } `json:"rx"`
			Tx struct{ Bytes uint64 } `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal([]byte(run(t, "ip", "-n", ns, "-s", "-j", "link", "show", link)), &ip); err != nil || len(ip) != 1 {
		t.Fatalf("ip -j: %v", err)
	}
	return linkCounters{rx: ip[0].Stats64.Rx.Bytes, tx: ip[0].Stats64.Tx.Bytes}
}
