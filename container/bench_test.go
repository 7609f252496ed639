package container

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
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
	f := newFastest(b)
	for i := 0; i < b.N; i++ {
		if _, err := d.run(ctx, false, "lxc-start", "-n", ContainerName(name), "-d"); err != nil {
			b.Fatal(err)
		}
		f.stop()
		benchKill(b, m, name)
		f.start()
	}
	f.report()
	b.StopTimer()
	m.Remove(ctx, name)
}

// BenchmarkLXCStartRecord: the floors of starting a sliver, on the state
// directory's disk. "one" is lxc-start -d and one fsync'ed record write
// (temp file written and synced while lxc-start runs, then rename and
// directory fsync): what starting a deployed sliver must do at least.
// "request" adds what request -> started must do at least to survive a
// crash at any point without leaving a container no record explains: a
// new record before anything is made, the container's config (written;
// lxc-start reads it from the page cache), lxc-start, the record again,
// written and synced beside the config while lxc-start runs and renamed
// into place after it (latersync.go, store.prepare).
func BenchmarkLXCStartRecord(b *testing.B) {
	b.Run("records=one", func(b *testing.B) { benchFloor(b, false) })
	b.Run("records=request", func(b *testing.B) { benchFloor(b, true) })
}

func benchFloor(b *testing.B, request bool) {
	l, m, tmpl := benchLab(b, false)
	ctx := context.Background()
	name := "bf-" + randHex(6)
	fl := newFloor(b, l, m, tmpl, name)
	b.ResetTimer()
	f := newFastest(b)
	for i := 0; i < b.N; i++ {
		if request {
			fl.request()
		} else {
			fl.save(Started, fl.start)
		}
		f.stop()
		benchKill(b, m, name)
		if request {
			os.Remove(fl.rec) // the next one is a new record again
		}
		f.start()
	}
	f.report()
	b.StopTimer()
	m.Remove(ctx, name)
}

// floor does what a crash-safe start cannot do without, on a deployed
// sliver's container (see BenchmarkLXCStartRecord): its record saved in
// floor.json beside the state, its config rewritten, lxc-start.
type floor struct {
	b       *testing.B
	d       *LXC
	s       Sliver
	name    string
	cfgPath string
	cfg     []byte
	rec     string
}

func newFloor(b *testing.B, l *lab, m *Manager, tmpl Archive, name string) *floor {
	s, err := m.Create(context.Background(), Spec{Name: name, Template: tmpl, Request: Deploy})
	if err != nil {
		b.Fatal(err)
	}
	d := m.Driver().(*LXC)
	cfgPath := filepath.Join(d.dir(ContainerName(name)), "config")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		b.Fatal(err)
	}
	return &floor{b: b, d: d, s: s, name: name, cfgPath: cfgPath, cfg: cfg, rec: filepath.Join(l.stateDir, "floor.json")}
}

// save writes the record st while step runs (its temp file synced beside
// the pending files) and renames it into place once step and the syncs
// are done.
func (f *floor) save(st State, step func(), pending ...string) {
	f.s.State = st
	j, _ := json.MarshalIndent(f.s, "", "  ")
	decide, done := make(chan bool, 1), make(chan error, 1)
	go func() { done <- writeFileAfter(f.rec, j, 0o640, pending, decide) }()
	step()
	decide <- true
	if err := <-done; err != nil {
		f.b.Fatal(err)
	}
}

// start runs lxc-start -d.
func (f *floor) start() {
	if _, err := f.d.run(context.Background(), false, "lxc-start", "-n", ContainerName(f.name), "-d"); err != nil {
		f.b.Fatal(err)
	}
}

// request is the floor of request -> started: a new record, the config
// written, lxc-start, the record saved once the config is synced.
func (f *floor) request() {
	f.save(Registered, func() {})
	if err := writeFileLater(f.cfgPath, f.cfg, 0o640); err != nil {
		f.b.Fatal(err)
	}
	f.save(Started, f.start, f.cfgPath)
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
	f := newFastest(b)
	for i := 0; i < b.N; i++ {
		if _, err := m.SetRequest(ctx, name, Start); err != nil {
			b.Fatal(err)
		}
		f.stop()
		benchKill(b, m, name)
		if _, err := m.SetRequest(ctx, name, Deploy); err != nil {
			b.Fatal(err)
		}
		f.start()
	}
	f.report()
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
	f := newFastest(b)
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("br%d-%s", i, randHex(6))
		if _, err := m.Create(ctx, Spec{Name: name, Template: tmpl(i), Request: Start}); err != nil {
			b.Fatal(err)
		}
		f.stop()
		benchKill(b, m, name)
		if err := m.Remove(ctx, name); err != nil {
			b.Fatal(err)
		}
		f.start()
	}
	f.report()
}

// fastest reports a benchmark's quickest iteration as min-ms/op beside
// the mean: on a loaded machine the mean carries whatever else ran, the
// quickest run what the code costs.
type fastest struct {
	b   *testing.B
	t0  time.Time
	min time.Duration
}

func newFastest(b *testing.B) *fastest { return &fastest{b: b, t0: time.Now()} }

// stop ends an iteration's timed part.
func (f *fastest) stop() {
	if d := time.Since(f.t0); f.min == 0 || d < f.min {
		f.min = d
	}
	f.b.StopTimer()
}

// start begins the next iteration's timed part.
func (f *fastest) start() {
	f.b.StartTimer()
	f.t0 = time.Now()
}

func (f *fastest) report() {
	if f.min > 0 {
		f.b.ReportMetric(float64(f.min)/1e6, "min-ms/op")
	}
}

// BenchmarkSideBySide takes turns, in every iteration, between lxc-start
// -d alone, the request floor (see BenchmarkLXCStartRecord) and request ->
// started with the template cached, so that all three meet the same load
// on a shared machine; it reports each one's median and quickest.
func BenchmarkSideBySide(b *testing.B) {
	l, m, tmpl := benchLab(b, false)
	ctx := context.Background()
	if _, err := m.cache.template(ctx, tmpl); err != nil {
		b.Fatal(err)
	}
	peer := "bp-" + randHex(6)
	fl := newFloor(b, l, m, tmpl, peer)
	var lxc, floor, nk []time.Duration
	timed := func(into *[]time.Duration, f func()) {
		t0 := time.Now()
		f()
		*into = append(*into, time.Since(t0))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		timed(&lxc, fl.start)
		benchKill(b, m, peer)
		timed(&floor, fl.request)
		benchKill(b, m, peer)
		os.Remove(fl.rec)
		name := fmt.Sprintf("bs%d-%s", i, randHex(6))
		timed(&nk, func() {
			if _, err := m.Create(ctx, Spec{Name: name, Template: tmpl, Request: Start}); err != nil {
				b.Fatal(err)
			}
		})
		benchKill(b, m, name)
		if err := m.Remove(ctx, name); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	for _, c := range []struct {
		unit string
		ds   []time.Duration
	}{{"lxc", lxc}, {"floor", floor}, {"nk", nk}} {
		sort.Slice(c.ds, func(i, j int) bool { return c.ds[i] < c.ds[j] })
		b.ReportMetric(float64(c.ds[len(c.ds)/2])/1e6, c.unit+"-median-ms")
		b.ReportMetric(float64(c.ds[0])/1e6, c.unit+"-min-ms")
	}
	m.Remove(ctx, peer)
}
