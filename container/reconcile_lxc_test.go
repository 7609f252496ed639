package container

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nodekeeper/nodekeeper/netcfg"
)

// TestReconcile: at start a Manager adopts a running container, notices a
// stopped one and a lost one and brings both back when converged (the lost
// one keeps its data), and reports an orphan without touching it.
func TestReconcile(t *testing.T) {
	l := newLab(t)
	ctx := ctxT(t)
	tmpl := l.busybox()
	sfx := randHex(6)
	running, stopped, lost := "run-"+sfx, "stop-"+sfx, "lost-"+sfx
	m1, _ := l.open("")
	for _, n := range []string{running, stopped, lost} {
		if _, err := m1.Create(ctx, Spec{Name: n, Template: tmpl, Request: Start, Interfaces: []Interface{{Kind: netcfg.Private}}}); err != nil {
			t.Fatal(err)
		}
	}
	attach(t, m1, lost, "touch", "/root/kept")
	m1.Close()

	d := l.driver()
	if err := d.Stop(ctx, ContainerName(stopped), 0); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(ctx, ContainerName(lost), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(l.lxcPath, ContainerName(lost))); err != nil {
		t.Fatal(err)
	}
	orphan, foreign := ContainerPrefix+"orphan-"+sfx, "foreign-"+sfx
	for _, n := range []string{orphan, foreign} {
		dir := filepath.Join(t.TempDir(), "rootfs")
		os.Mkdir(dir, 0o755)
		if err := d.Define(ctx, ContainerConfig{Name: n, Hostname: "x", Rootfs: Rootfs{Dir: dir}}); err != nil {
			t.Fatal(err)
		}
	}

	m2, rep := l.open("")
	want := Report{Adopted: []string{running}, Stopped: []string{stopped}, Rebuild: []string{lost}, Orphans: []string{orphan}}
	if !reflect.DeepEqual(rep, want) {
		t.Fatalf("report %+v, want %+v", rep, want)
	}
	wantState(t, m2, running, Started)
	wantState(t, m2, stopped, Deployed)
	wantState(t, m2, lost, Allocated)
	if err := m2.ConvergeAll(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{running, stopped, lost} {
		wantState(t, m2, n, Started)
	}
	if out, code := attach(t, m2, lost, "ls", "/root"); code != 0 || !strings.Contains(out, "kept") {
		t.Errorf("the rebuilt sliver lost its data: %q", out)
	}
	for _, n := range []string{orphan, foreign} {
		if _, err := d.Info(ctx, n); err != nil {
			t.Errorf("container %s was touched: %v", n, err)
		}
	}
	for _, n := range []string{running, stopped, lost} {
		veths := statusOf(t, m2, n).HostInterfaces
		if err := m2.Remove(ctx, n); err != nil {
			t.Fatal(err)
		}
		nothingLeft(t, l, m2, n, veths)
	}
}

// TestInstanceSN: a higher instance_sn redeploys a running sliver from
// scratch; a lower one is refused.
func TestInstanceSN(t *testing.T) {
	l := newLab(t)
	m, _ := l.open("")
	ctx := ctxT(t)
	tmpl := l.busybox()
	spec := Spec{Name: "sn-" + randHex(6), Template: tmpl, Request: Start, InstanceSN: 1}
	if _, err := m.Apply(ctx, spec); err != nil {
		t.Fatal(err)
	}
	attach(t, m, spec.Name, "touch", "/root/old-instance")
	pid := statusOf(t, m, spec.Name).PID

	spec.InstanceSN = 2
	s, err := m.Apply(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != Started || s.DeployedSN != 2 {
		t.Fatalf("after instance_sn 2: %s, deployed for %d", s.State, s.DeployedSN)
	}
	if statusOf(t, m, spec.Name).PID == pid {
		t.Error("the container was not restarted")
	}
	if out, _ := attach(t, m, spec.Name, "ls", "/root"); strings.Contains(out, "old-instance") {
		t.Error("the redeployed sliver kept the old instance's files")
	}
	spec.InstanceSN = 1
	if _, err := m.Apply(ctx, spec); err == nil || !strings.Contains(err.Error(), "instance_sn 1 is below") {
		t.Errorf("lower instance_sn: %v", err)
	}
	if err := m.Remove(ctx, spec.Name); err != nil {
		t.Fatal(err)
	}
	nothingLeft(t, l, m, spec.Name, nil)
}

// TestReconcileLagging: a sliver asked to start is saved when registered
// and when started, not in between. A crash after lxc-start but before
// the started record (the container runs) or between deploy and start
// (it is defined, stopped) leaves the registered record on disk: the
// first is adopted as started, the second deployed again and started.
func TestReconcileLagging(t *testing.T) {
	l := newLab(t)
	ctx := ctxT(t)
	tmpl := l.busybox()
	sfx := randHex(6)
	running, defined := "lagr-"+sfx, "lagd-"+sfx
	m1, _ := l.open("")
	for _, n := range []string{running, defined} {
		if _, err := m1.Create(ctx, Spec{Name: n, Template: tmpl, Request: Start, InstanceSN: 3}); err != nil {
			t.Fatal(err)
		}
	}
	if err := m1.Driver().Stop(ctx, ContainerName(defined), 0); err != nil {
		t.Fatal(err)
	}
	recs, err := m1.store.load()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{running, defined} {
		s := recs[n]
		s.State, s.DeployedSN = Registered, 0
		if err := m1.store.save(s); err != nil {
			t.Fatal(err)
		}
	}
	m1.Close()

	m2, rep := l.open("")
	if want := (Report{Adopted: []string{running}}); !reflect.DeepEqual(rep, want) {
		t.Fatalf("report %+v, want %+v", rep, want)
	}
	if s, err := m2.Get(running); err != nil || s.State != Started || s.DeployedSN != 3 {
		t.Fatalf("adopted: %+v %v, want started with deployed_sn 3", s, err)
	}
	wantState(t, m2, defined, Registered)
	if err := m2.ConvergeAll(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{running, defined} {
		wantState(t, m2, n, Started)
		if err := m2.Remove(ctx, n); err != nil {
			t.Fatal(err)
		}
		nothingLeft(t, l, m2, n, nil)
	}
}

// TestSameNameTwoLXCPaths: two managers (two agents, or a test beside an
// agent) with a sliver of the same name under two LXC paths. LXC gives the
// second container's payload cgroup the name NAME-1; each driver must
// still find its own container's init, never the other's (whose cgroup
// has the plain name).
func TestSameNameTwoLXCPaths(t *testing.T) {
	l := newLab(t)
	ctx := ctxT(t)
	tmpl := l.busybox()
	l2 := *l
	l2.lxcPath = filepath.Join(t.TempDir(), "lxc")
	l2.stateDir = filepath.Join(t.TempDir(), "state")
	t.Cleanup(l2.sweep)
	name := "twin-" + randHex(6)
	var pids []int
	var managers []*Manager
	for _, lab := range []*lab{l, &l2} {
		m, _ := lab.open("")
		if _, err := m.Create(ctx, Spec{Name: name, Template: tmpl, Request: Start}); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, statusOf(t, m, name).PID)
		managers = append(managers, m)
	}
	if pids[0] <= 0 || pids[0] == pids[1] {
		t.Fatalf("init PIDs %v: want two, one per container", pids)
	}
	for i, lab := range []*lab{l, &l2} {
		// A new driver knows no PIDs yet: it finds them afresh.
		in, err := lab.driver().Info(ctx, ContainerName(name))
		if err != nil || in.PID != pids[i] {
			t.Errorf("%s: Info %+v (%v), want PID %d", lab.lxcPath, in, err, pids[i])
		}
		if got := lab.driver().findInit(ContainerName(name)); got != 0 && got != pids[i] {
			t.Errorf("%s: findInit gave %d, the other container's init", lab.lxcPath, got)
		}
	}
	for i := len(managers) - 1; i >= 0; i-- {
		if err := managers[i].Remove(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
}
