package policy

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// goodPolicy fires on every tick; the hostile corpus runs beside it.
const goodPolicy = `policy "good" { every = "1s", act = function(node) alert("info", "tick %d", node.seq) end }`

// TestHostileCorpus runs every file of testdata/hostile beside a good
// policy. Each file says what it expects on its first line:
//
//	-- expect: cpu | memory | budget | error [substring] | quarantine | ok
//
// For each: the error names file:line, carries no Go or Lua stack trace,
// arrives in time, the good policy fires on every tick, and the engine's
// process stays small.
func TestHostileCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/hostile/*.lua")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	budget := Budget{}.withDefaults()
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".lua"), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			kind, match := expectation(t, src)
			budget := budget
			if kind == "error" {
				// The file is about a limit or a refusal, which bounds
				// its work: a CPU budget that could stop it first on a
				// loaded machine would make the outcome the machine's.
				budget.CPU = errorKindCPU
			}
			e, rec := newTestEngine(t, func(c *Config) { c.Budget = budget })
			mustLoad(t, e, "good.lua", goodPolicy)
			var errs []string
			start := time.Now()
			if err := e.Load(name, src); err != nil {
				errs = append(errs, err.Error())
			}
			slowest := time.Since(start)
			quarantined := false
			for i := 0; i < 4; i++ {
				start := time.Now()
				ds := e.Tick(context.Background(), t0.Add(time.Duration(i)*time.Second))
				slowest = max(slowest, time.Since(start))
				good, ok := find(ds, "good")
				if !ok || !good.Fired || len(good.Actions) != 1 || good.Actions[0].Result != ResultDone {
					t.Fatalf("tick %d: good policy did not fire: %+v (decisions %+v)", i, good, ds)
				}
				if d, ok := find(ds, "hostile"); ok && d.Error != "" {
					errs = append(errs, d.Error)
					quarantined = quarantined || d.Quarantined != nil
				}
			}
			t.Logf("slowest load or tick: %v; errors: %q", slowest, errs)
			if slowest > budget.CPU+5*time.Second {
				t.Errorf("slowest load or tick took %v", slowest)
			}
			if rss := highWaterRSS(t); rss > 64<<20 {
				t.Errorf("engine process peak RSS %d MiB, want < 64 MiB", rss>>20)
			}
			if kind == "ok" {
				if len(errs) > 0 {
					t.Fatalf("want no error, got %q", errs)
				}
				return
			}
			if len(errs) == 0 {
				t.Fatalf("want a %s error, got none (actions %v)", kind, rec.actions())
			}
			loc := regexp.MustCompile(regexp.QuoteMeta(name) + `:\d+: `)
			for _, msg := range errs {
				if !loc.MatchString(msg) {
					t.Errorf("error does not name %s:line: %q", name, msg)
				}
				for _, leak := range []string{"goroutine ", "stack traceback", ".go:", "panic:"} {
					if strings.Contains(msg, leak) {
						t.Errorf("error leaks %q: %q", leak, msg)
					}
				}
				if len(msg) > 1024 {
					t.Errorf("error of %d bytes not truncated", len(msg))
				}
			}
			first := errs[0]
			switch kind {
			case "cpu":
				if !strings.Contains(first, "CPU budget") && !strings.Contains(first, "time budget") {
					t.Errorf("want a CPU budget error, got %q", first)
				}
			case "memory":
				if !strings.Contains(first, "memory budget") {
					t.Errorf("want a memory budget error, got %q", first)
				}
			case "budget":
				if !strings.Contains(first, "budget") {
					t.Errorf("want a budget error, got %q", first)
				}
			case "quarantine":
				if !quarantined {
					t.Errorf("not quarantined after %d failures", len(errs))
				}
			case "error":
				for _, msg := range errs {
					if !strings.Contains(msg, match) {
						t.Errorf("want an error with %q, got %q", match, msg)
					}
				}
			default:
				t.Fatalf("unknown expectation %q", kind)
			}
		})
	}
}

// errorKindCPU is the CPU budget of the files that expect an error: far
// above what any of them needs, so that only the limit under test stops
// them, however loaded the machine is.
const errorKindCPU = 20 * time.Second

func expectation(t *testing.T, src []byte) (kind, match string) {
	line, _, _ := strings.Cut(string(src), "\n")
	rest, ok := strings.CutPrefix(line, "-- expect: ")
	if !ok {
		t.Fatalf("first line %q lacks '-- expect: '", line)
	}
	kind, match, _ = strings.Cut(rest, " ")
	return kind, match
}

// highWaterRSS is this process's peak resident size.
func highWaterRSS(t *testing.T) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		if inCI() {
			t.Fatalf("no /proc (fails under CI=true): %v", err)
		}
		t.Skipf("kernel lacks /proc: %v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
