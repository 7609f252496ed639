package policy

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"
)

// WorkerEnv is the environment variable that makes a binary linking this
// package serve as a policy worker (see ServeWorker): policy's own tests
// re-execute themselves with it.
const WorkerEnv = "NODEKEEPER_POLICY_WORKER"

// ServeWorker runs the policy worker: the process the engine starts
// (`nodekeeper policy-worker`) to load and evaluate policies under the
// budgets, away from the agent. It talks to the engine over stdin and
// stdout and reads the progress page from file descriptor 3. It returns
// the process's exit status.
func ServeWorker() int {
	debug.SetTraceback("none")
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(workerGCPercent)
	}
	var prog progress
	if f := os.NewFile(3, "progress"); f != nil {
		if p, err := mapProgress(f); err == nil {
			prog = p
		}
	}
	w := &worker{in: frameReader{r: os.Stdin}, out: os.Stdout, prog: prog, files: map[uint64]*fileState{}}
	if err := w.serve(); err != nil && err != io.EOF {
		fmt.Fprintf(os.Stderr, "policy worker: %v\n", err)
		return 1
	}
	return 0
}

// workerGCPercent is the worker's GOGC unless the environment sets one.
// Its live heap is 1-2 MB (the policy files' Lua states) and it allocates
// little per round: with the default 100 the goal is the runtime's 4 MB
// minimum, which the heap took many minutes to reach (the PSS rise the
// agent bench showed; heap profiles in docs/config.md). With 25 the goal is
// about 1 MB above the live heap; collectIdle keeps it nearer still.
const workerGCPercent = 25

type worker struct {
	in    frameReader
	out   io.Writer
	prog  progress
	e     enc
	lim   *limits
	allow map[string]bool
	wd    *watchdog
	files map[uint64]*fileState
	doc   *jdoc

	lastCollect time.Time // see collectIdle
}

func (w *worker) send() error {
	_, err := w.out.Write(w.e.frame())
	return err
}

func (w *worker) serve() error {
	for {
		typ, payload, err := w.in.next()
		if err != nil {
			return err
		}
		d := dec{b: payload}
		switch typ {
		case msgConfig:
			err = w.config(&d)
		case msgLoad:
			err = w.load(&d)
		case msgUnload:
			id := d.uint()
			if fs := w.files[id]; fs != nil {
				delete(w.files, id)
				fs.close()
			}
		case msgRound:
			err = w.round(&d)
		case msgTest:
			err = w.test(&d)
		default:
			err = fmt.Errorf("unexpected message %d", typ)
		}
		if err != nil {
			return err
		}
		if d.err != nil {
			return d.err
		}
	}
}

func (w *worker) config(d *dec) error {
	b := Budget{CPU: time.Duration(d.int()), Memory: d.int()}.withDefaults()
	w.lim = newLimits(b)
	w.allow = map[string]bool{}
	for _, p := range d.strs() {
		w.allow[p] = true
	}
	debug.SetMaxStack(64 << 20)
	w.wd = newWatchdog(b, w.prog, os.Exit)
	debug.SetMemoryLimit(int64(w.wd.heapBase) + b.Memory + 4<<20)
	return limitAddressSpace(max(256<<20, 8*b.Memory))
}

// budgetError words a cancellation for the admin, keeping the position
// where the policy was stopped.
func (w *worker) budgetError(cause int, luaMsg, fallback string) (string, errKind) {
	pos := fallback
	if i := len(luaMsg); i > 0 {
		// luaMsg is "file:line: context canceled" when the VM stopped.
		if j := indexOf(luaMsg, ": "); j > 0 {
			pos = luaMsg[:j]
		}
	}
	if cause == causeMemory {
		return fmt.Sprintf("%s: memory budget of %d MiB exceeded", pos, w.lim.budget.Memory>>20), errMemory
	}
	return fmt.Sprintf("%s: CPU budget of %s exceeded", pos, w.lim.budget.CPU), errCPU
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func (w *worker) load(d *dec) error {
	seq, id, name, src := d.uint(), d.uint(), d.str(), d.bytes()
	n := d.count(2)
	states := make(map[string][]byte, n)
	for i := 0; i < n; i++ {
		states[d.str()] = d.bytes()
	}
	if d.err != nil {
		return d.err
	}
	w.prog.set(progSeq, seq)
	w.prog.set(progItem, 0)
	ctx := w.wd.begin()
	fs, problems := loadFile(ctx, name, src, w.lim, w.allow, w, states)
	if cause := w.wd.end(); cause != causeNone {
		if fs != nil {
			fs.close()
			fs = nil
		}
		msg := ""
		if len(problems) > 0 {
			msg = problems[0]
		}
		p, _ := w.budgetError(cause, msg, name+":1")
		problems = []string{p}
	}
	if old := w.files[id]; old != nil {
		old.close()
		delete(w.files, id)
	}
	w.e.reset(msgLoaded)
	w.e.uint(id)
	w.e.strs(problems)
	if fs != nil {
		w.files[id] = fs
		w.e.uint(uint64(len(fs.policies)))
		for _, p := range fs.policies {
			w.e.meta(&p.meta)
		}
	} else {
		w.e.uint(0)
	}
	// Collect what loading left behind (the parser's trees, a replaced
	// file's state) and give its pages back, so that the heap the budget
	// builds on is the live heap and the load's peak is not kept resident.
	debug.FreeOSMemory()
	w.lastCollect = time.Now()
	w.wd.rebase()
	return w.send()
}

// round evaluates the listed policies in order and answers with all
// results in one frame.
func (w *worker) round(d *dec) error {
	seq := d.uint()
	now := time.Unix(0, d.int())
	if d.bool() {
		w.doc = newJdoc(append([]byte(nil), d.bytes()...))
	}
	var event *jdoc
	if b := d.bytes(); len(b) > 0 {
		event = newJdoc(append([]byte(nil), b...))
	}
	n := d.count(3)
	type item struct {
		file, idx uint64
		mayAct    bool
	}
	items := make([]item, n)
	for i := range items {
		items[i] = item{d.uint(), d.uint(), d.bool()}
	}
	if d.err != nil {
		return d.err
	}
	if w.doc == nil {
		w.doc = newJdoc([]byte("{}"))
	}
	w.prog.set(progSeq, seq)
	results := make([]evalResult, n)
	for i, it := range items {
		w.prog.set(progItem, uint64(i))
		fs := w.files[it.file]
		if fs == nil || it.idx >= uint64(len(fs.policies)) {
			results[i] = evalResult{Err: "policy is not loaded", Kind: errRuntime}
			continue
		}
		p := fs.policies[it.idx]
		ctx := w.wd.begin()
		r := fs.evaluate(ctx, p, evalInput{now: now, doc: w.doc, event: event, mayAct: it.mayAct})
		if cause := w.wd.end(); cause != causeNone {
			r.Err, r.Kind = w.budgetError(cause, r.Err, fmt.Sprintf("%s:%d", fs.name, p.meta.Line))
			r.Fired, r.When, r.Actions = false, false, nil
		}
		results[i] = r
	}
	w.e.reset(msgRoundDone)
	w.e.uint(seq)
	w.e.uint(uint64(n))
	for i := range results {
		w.e.result(&results[i])
	}
	if err := w.send(); err != nil {
		return err
	}
	w.collectIdle(time.Now())
	return nil
}

// idleCollectEvery is how often the worker collects its garbage and gives
// the free pages back, between rounds.
const idleCollectEvery = 30 * time.Second

// collectIdle collects the garbage of the rounds since the last time, at
// most every idleCollectEvery, after the round's results went out (the
// engine does not wait for it). A round of the 10 policies in the agent
// bench leaves about 25 kB: left to the runtime's pacing the heap took
// minutes to reach its goal, growing the worker by as much, before the
// first collection; a collection of the 1-2 MB live heap costs 1-2 ms of
// CPU.
func (w *worker) collectIdle(now time.Time) {
	if now.Sub(w.lastCollect) < idleCollectEvery {
		return
	}
	w.lastCollect = now
	debug.FreeOSMemory()
}

// Queries to the engine during an evaluation.
const (
	queryPeers byte = iota + 1
	queryUCI
)

func (w *worker) ask(kind byte, args ...string) (dec, error) {
	w.e.reset(msgQuery)
	w.e.b = append(w.e.b, kind)
	w.e.strs(args)
	if err := w.send(); err != nil {
		return dec{}, err
	}
	typ, payload, err := w.in.next()
	if err != nil {
		return dec{}, err
	}
	if typ != msgAnswer {
		return dec{}, fmt.Errorf("expected an answer, got message %d", typ)
	}
	d := dec{b: payload}
	if e := d.str(); e != "" {
		return d, fmt.Errorf("%s", e)
	}
	return d, nil
}

func (w *worker) peers() (map[string][]byte, error) {
	d, err := w.ask(queryPeers)
	if err != nil {
		return nil, err
	}
	n := d.count(2)
	m := make(map[string][]byte, n)
	for i := 0; i < n; i++ {
		m[d.str()] = append([]byte(nil), d.bytes()...)
	}
	return m, d.err
}

func (w *worker) uciGet(pkg, section, option string) (string, bool, error) {
	d, err := w.ask(queryUCI, pkg, section, option)
	if err != nil {
		return "", false, err
	}
	ok, v := d.bool(), d.str()
	return v, ok, d.err
}

var _ host = (*worker)(nil)
