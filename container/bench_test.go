package container

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The benchmarks below time one sliver from request to running, beside
// plain lxc-start on the same container config (scripts/bench/container.sh
// prints them as a table). Slivers have no network interface, so every
// case runs the same LXC work; stopping is untimed and by force.

func benchLab(b *testing.B, tmpfs bool) (*lab, *Manager, Archive) {
	l := newLab(b)
	l.netns = "" // plain lxc-start runs in the caller's namespace too
	if tmpfs {
		// Without fsync costs: what the agent itself adds.
		dir, err := os.MkdirTemp("/dev/shm", "nk-bench-")
		need(b, "needs a tmpfs at /dev/shm", err)
		b.Cleanup(func() { os.RemoveAll(dir) })
		l.stateDir = dir
	}
	m, _ := l.open("")
	m.log = slog.New(slog.DiscardHandler)
	return l, m, l.busybox()
}

// onDisks runs f with the state directory on the test's disk and on tmpfs.
func onDisks(b *testing.B, f func(b *testing.B, tmpfs bool)) {
	b.Run("state=disk", func(b *testing.B) { f(b, false) })
	b.Run("state=tmpfs", func(b *testing.B) { f(b, true) })
}

func benchKill(b *testing.B, m *Manager, name string) {
	ctx := context.Background()
	if _, err := m.Driver().(*LXC).run(ctx, false, "lxc-stop", "-n", ContainerName(name), "-k"); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLXCStart: lxc-start -d alone, on a defined container.
func BenchmarkLXCStart(b *testing.B) {
	_, m, tmpl := benchLab(b, false)
	ctx := context.Background()
	name := "bl-" + randHex(6)
	if _, err := m.Create(ctx, Spec{Name: name, Template: tmpl, Request: Deploy}); err != nil {
		b.Fatal(err)
	}
	d := m.Driver().(*LXC)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.run(ctx, false, "lxc-start", "-n", ContainerName(name), "-d"); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		benchKill(b, m, name)
		b.StartTimer()
	}
	b.StopTimer()
	m.Remove(ctx, name)
}

// BenchmarkLXCStartRecord: the floor of request -> started: lxc-start -d
// and one fsync'ed record write in the state directory (temp file, fsync,
// rename, directory fsync), what any implementation that survives a crash
// must do at least.
func BenchmarkLXCStartRecord(b *testing.B) {
	l, m, tmpl := benchLab(b, false)
	ctx := context.Background()
	name := "bf-" + randHex(6)
	s, err := m.Create(ctx, Spec{Name: name, Template: tmpl, Request: Deploy})
	if err != nil {
		b.Fatal(err)
	}
	d := m.Driver().(*LXC)
	rec := filepath.Join(l.stateDir, "floor.json")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.run(ctx, false, "lxc-start", "-n", ContainerName(name), "-d"); err != nil {
			b.Fatal(err)
		}
		s.State = Started
		j, _ := json.MarshalIndent(s, "", "  ")
		if err := writeFileAtomic(rec, j, 0o640); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		benchKill(b, m, name)
		b.StartTimer()
	}
	b.StopTimer()
	m.Remove(ctx, name)
}

// BenchmarkStartDeployed: SetRequest(start) on a deployed sliver.
func BenchmarkStartDeployed(b *testing.B) { onDisks(b, benchStartDeployed) }

func benchStartDeployed(b *testing.B, tmpfs bool) {
	_, m, tmpl := benchLab(b, tmpfs)
	ctx := context.Background()
	name := "bd-" + randHex(6)
	if _, err := m.Create(ctx, Spec{Name: name, Template: tmpl, Request: Deploy}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.SetRequest(ctx, name, Start); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		benchKill(b, m, name)
		if _, err := m.SetRequest(ctx, name, Deploy); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	m.Remove(ctx, name)
}

// BenchmarkRequestToStarted: Create with request start, template cached:
// allocate, deploy (writable layer, config) and start.
func BenchmarkRequestToStarted(b *testing.B) { onDisks(b, benchRequestToStarted) }

func benchRequestToStarted(b *testing.B, tmpfs bool) {
	_, m, tmpl := benchLab(b, tmpfs)
	ctx := context.Background()
	if _, err := m.cache.template(ctx, tmpl); err != nil {
		b.Fatal(err)
	}
	benchCreate(b, m, func(int) Archive { return tmpl })
}

// BenchmarkRequestToStartedCold: the same with a template not yet cached:
// download over HTTP, verify, unpack.
func BenchmarkRequestToStartedCold(b *testing.B) {
	l, m, _ := benchLab(b, false)
	tmpls := make([]Archive, b.N)
	for i := range tmpls {
		// A different file each time: a different hash, a cache miss.
		es := append(busyboxEntries(b, true), tarEntry{name: "etc/build", typ: '0', mode: 0o644, body: fmt.Sprint(i)})
		tmpls[i] = l.serve(fmt.Sprintf("t%d.tar.gz", i), makeTar(b, es))
	}
	benchCreate(b, m, func(i int) Archive { return tmpls[i] })
}

func benchCreate(b *testing.B, m *Manager, tmpl func(int) Archive) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("br%d-%s", i, randHex(6))
		if _, err := m.Create(ctx, Spec{Name: name, Template: tmpl(i), Request: Start}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		benchKill(b, m, name)
		if err := m.Remove(ctx, name); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
