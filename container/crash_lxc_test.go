package container

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/netcfg"
)

// helperEnv makes the test binary a managing process of its own (see
// TestMain): the process TestCrashAdopt kills.
const helperEnv = "NK_CONTAINER_TEST_MANAGER"

type helperConfig struct {
	StateDir, LXCPath, Netns, Node, Bridge string
	Specs                                  []Spec
}

func TestMain(m *testing.M) {
	if cfg := os.Getenv(helperEnv); cfg != "" {
		os.Exit(helperMain(cfg))
	}
	os.Exit(m.Run())
}

// helperMain opens a Manager, starts the slivers it is given, prints their
// PIDs as one JSON line and waits to be killed.
func helperMain(cfgJSON string) int {
	var hc helperConfig
	if err := json.Unmarshal([]byte(cfgJSON), &hc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	d, err := NewLXC(LXCOptions{Path: hc.LXCPath, Netns: hc.Netns})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	m, _, err := Open(ctx, Config{StateDir: hc.StateDir, Node: hc.Node, Driver: d,
		Bridges: map[netcfg.IfaceKind]string{netcfg.Private: hc.Bridge},
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, s := range hc.Specs {
		if _, err := m.Create(ctx, s); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	st, err := m.List(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	pids := map[string]int{}
	for _, s := range st {
		pids[s.Name] = s.PID
	}
	json.NewEncoder(os.Stdout).Encode(pids)
	select {}
}

// TestCrashAdopt: the managing process is killed with SIGKILL while two
// slivers run; a new one adopts both, duplicates none and loses none.
func TestCrashAdopt(t *testing.T) {
	l := newLab(t)
	tmpl := l.busybox()
	var specs []Spec
	for i := 0; i < 2; i++ {
		specs = append(specs, Spec{Name: fmt.Sprintf("kill%d-%s", i, randHex(6)), Template: tmpl, Request: Start,
			Resources:  Resources{MemoryBytes: 32 << 20},
			Interfaces: []Interface{{Kind: netcfg.Private}}})
	}
	cfg, _ := json.Marshal(helperConfig{StateDir: l.stateDir, LXCPath: l.lxcPath, Netns: l.netns, Node: l.node, Bridge: l.bridge, Specs: specs})
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+string(cfg))
	cmd.Stderr = testWriter{t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Scan()
		line <- sc.Text()
	}()
	var before map[string]int
	select {
	case s := <-line:
		if err := json.Unmarshal([]byte(s), &before); err != nil || len(before) != 2 {
			t.Fatalf("managing process printed %q (%v), want the PIDs of two slivers", s, err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the managing process did not start its slivers")
	}
	for n, pid := range before {
		if pid <= 0 {
			t.Fatalf("sliver %s has no PID: %v", n, before)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("managing process ended with %v, want killed", err)
	}

	m, rep := l.open("")
	names := []string{specs[0].Name, specs[1].Name}
	sort.Strings(names)
	sort.Strings(rep.Adopted)
	if !reflect.DeepEqual(rep.Adopted, names) || len(rep.Rebuild)+len(rep.Stopped)+len(rep.Orphans) != 0 {
		t.Fatalf("report %+v, want exactly %v adopted", rep, names)
	}
	ctx := ctxT(t)
	if err := m.ConvergeAll(ctx); err != nil {
		t.Fatal(err)
	}
	after := map[string]int{}
	st, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.State != Started {
			t.Errorf("sliver %s is %s after adoption", s.Name, s.State)
		}
		after[s.Name] = s.PID
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("PIDs before the crash %v, after adoption %v: want the same containers", before, after)
	}
	cts, err := m.Driver().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(cts)
	if want := []string{ContainerName(names[0]), ContainerName(names[1])}; !reflect.DeepEqual(cts, want) {
		t.Errorf("containers %v, want exactly %v", cts, want)
	}
	if ids := []int{m.Slivers()[0].ID, m.Slivers()[1].ID}; len(m.Slivers()) != 2 || ids[0] == ids[1] {
		t.Errorf("records %+v, want two with distinct ids", m.Slivers())
	}
	for _, n := range names {
		veths := statusOf(t, m, n).HostInterfaces
		if err := m.Remove(ctx, n); err != nil {
			t.Fatal(err)
		}
		nothingLeft(t, l, m, n, veths)
	}
}

// TestPowerLossBeforeStarted: a deploy that a start follows syncs the
// layer's marker and the container's config only beside the record that
// says started (latersync.go). A power loss before that record leaves the
// first record (registered, request start), a stopped container and a
// marker and config that may be empty or hold the zero bytes of blocks
// never written. The next manager must rebuild and start the sliver from
// that, leave no orphan, and take it down cleanly.
func TestPowerLossBeforeStarted(t *testing.T) {
	l := newLab(t)
	tmpl := l.busybox()
	for _, tc := range []struct {
		name string
		tear func(b []byte) []byte
	}{
		{"empty", func([]byte) []byte { return nil }},
		{"zero blocks", func(b []byte) []byte { return make([]byte, len(b)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t)
			name := "pl-" + randHex(6)
			m, _ := l.open("")
			s, err := m.Create(ctx, Spec{Name: name, Template: tmpl, Request: Start})
			if err != nil || s.State != Started {
				t.Fatalf("create: %+v, %v", s, err)
			}
			// The power goes: the container stops, and of the last
			// writes only the first record is on disk.
			if err := m.Driver().Stop(ctx, ContainerName(name), time.Second); err != nil {
				t.Fatal(err)
			}
			first := s
			first.State, first.Error, first.DeployedSN = Registered, "", 0
			rec, _ := json.MarshalIndent(first, "", "  ")
			if err := os.WriteFile(m.store.path(name), rec, 0o640); err != nil {
				t.Fatal(err)
			}
			cfgPath := filepath.Join(l.driver().dir(ContainerName(name)), "config")
			for _, p := range []string{cfgPath, m.layout(name).marker} {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, tc.tear(b), 0o640); err != nil {
					t.Fatal(err)
				}
			}
			m.Close()

			m2, rep := l.open("")
			if len(rep.Orphans)+len(rep.Rebuild)+len(rep.Adopted)+len(rep.Stopped) != 0 {
				t.Errorf("reconcile after the power loss: %+v, want nothing to report", rep)
			}
			if err := m2.ConvergeAll(ctx); err != nil {
				t.Fatal(err)
			}
			if st := statusOf(t, m2, name); st.State != Started || st.PID <= 0 || st.Error != "" {
				t.Fatalf("after the power loss: %+v, want started", st)
			}
			if b, _ := os.ReadFile(cfgPath); !strings.Contains(string(b), "lxc.rootfs.path") || bytes.IndexByte(b, 0) >= 0 {
				t.Errorf("the container's config was not written again:\n%q", b)
			}
			if _, ok := m2.layout(name).readMarker(); !ok {
				t.Error("the layer's marker does not parse")
			}
			veths := statusOf(t, m2, name).HostInterfaces
			if err := m2.Remove(ctx, name); err != nil {
				t.Fatal(err)
			}
			nothingLeft(t, l, m2, name, veths)
			m2.Close()
		})
	}
}
