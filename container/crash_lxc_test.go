package container

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
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
