package policy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// A workerProc is the engine's side of one policy worker process.
type workerProc struct {
	cmd      *exec.Cmd
	toW      *os.File
	fromW    *os.File
	fr       frameReader
	e        enc
	prog     progress
	progFile *os.File
	budget   Budget
	killWall time.Duration // kill an item that ran this long (wall clock)
	maxRSS   int64         // kill the worker above this resident size
	seq      uint64
	stderr   tail
	done     chan struct{}
	waitErr  error
	killedAs errKind // why the engine killed it, if it did
}

// WorkerSpec says how to start the worker process.
type WorkerSpec struct {
	// Argv is the command; by default the running executable with the
	// argument "policy-worker".
	Argv []string
	// Env is added to the engine's environment.
	Env []string
}

func (s WorkerSpec) argv() ([]string, error) {
	if len(s.Argv) > 0 {
		return s.Argv, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("policy worker: %w", err)
	}
	return []string{exe, "policy-worker"}, nil
}

// A death says that the worker died during an operation and whom to blame.
type death struct {
	item int // index of the item that was running
	kind errKind
	msg  string
}

func (d *death) Error() string { return d.msg }

// startWorker starts a worker and sends it its configuration.
func startWorker(spec WorkerSpec, b Budget, uciAllow []string) (*workerProc, error) {
	argv, err := spec.argv()
	if err != nil {
		return nil, err
	}
	b = b.withDefaults()
	w := &workerProc{budget: b, done: make(chan struct{}),
		killWall: b.CPU + time.Second, maxRSS: 3*b.Memory + 48<<20}
	rIn, wIn, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("policy worker: %w", err)
	}
	rOut, wOut, err := os.Pipe()
	if err != nil {
		rIn.Close()
		wIn.Close()
		return nil, fmt.Errorf("policy worker: %w", err)
	}
	w.progFile, w.prog, err = newProgressFile()
	if err != nil {
		for _, f := range []*os.File{rIn, wIn, rOut, wOut} {
			f.Close()
		}
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append(os.Environ(), "GOTRACEBACK=none"), spec.Env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = rIn, wOut, &w.stderr
	if w.progFile != nil {
		cmd.ExtraFiles = []*os.File{w.progFile}
	}
	cmd.SysProcAttr = workerSysProcAttr()
	err = cmd.Start()
	rIn.Close()
	wOut.Close()
	if err != nil {
		wIn.Close()
		rOut.Close()
		if w.progFile != nil {
			w.progFile.Close()
		}
		return nil, fmt.Errorf("policy worker: %w", err)
	}
	w.cmd, w.toW, w.fromW = cmd, wIn, rOut
	w.fr = frameReader{r: rOut}
	go func() {
		w.waitErr = cmd.Wait()
		close(w.done)
	}()
	w.e.reset(msgConfig)
	w.e.int(int64(b.CPU))
	w.e.int(b.Memory)
	w.e.strs(uciAllow)
	if err := w.send(); err != nil {
		w.close()
		return nil, fmt.Errorf("policy worker: %w", err)
	}
	return w, nil
}

func (w *workerProc) send() error {
	_, err := w.toW.Write(w.e.frame())
	return err
}

// close ends the worker and waits for it.
func (w *workerProc) close() {
	w.toW.Close()
	select {
	case <-w.done:
	case <-time.After(time.Second):
		w.cmd.Process.Kill()
		<-w.done
	}
	w.fromW.Close()
	if w.progFile != nil {
		w.progFile.Close()
	}
}

// kill ends a worker that has to go, recording why.
func (w *workerProc) kill(why errKind) {
	if w.killedAs == errNone {
		w.killedAs = why
	}
	w.cmd.Process.Kill()
}

// pollEvery is how often the engine looks at a worker that is busy.
const pollEvery = 10 * time.Millisecond

// recv waits for the worker's next frame while watching it: an item that
// runs past its wall-clock limit or a worker grown past its memory limit is
// killed. A dead worker yields a *death.
func (w *workerProc) recv(seq uint64) (byte, []byte, error) {
	var seenItem uint64 = ^uint64(0)
	var seenSince time.Time
	for {
		w.fromW.SetReadDeadline(time.Now().Add(pollEvery))
		typ, payload, err := w.fr.next()
		if err == nil {
			return typ, payload, nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, nil, w.died(seq)
		}
		if w.prog.get(progSeq) == seq {
			if it := w.prog.get(progItem); it != seenItem {
				seenItem, seenSince = it, time.Now()
			}
		}
		if seenSince.IsZero() {
			seenSince = time.Now()
		}
		if time.Since(seenSince) > w.killWall {
			w.kill(errCPU)
		}
		if rss := rssOf(w.cmd.Process.Pid); rss > w.maxRSS {
			w.kill(errMemory)
		}
	}
}

// died waits for the dead worker and says what happened.
func (w *workerProc) died(seq uint64) error {
	select {
	case <-w.done:
	case <-time.After(2 * time.Second):
		w.cmd.Process.Kill()
		<-w.done
	}
	d := &death{kind: errWorker}
	if w.prog.get(progSeq) == seq {
		d.item = int(w.prog.get(progItem))
	}
	cause, detail := w.prog.get(progCause), w.prog.get(progDetail)
	errOut := w.stderr.String()
	switch {
	case cause == causeMemory || w.killedAs == errMemory:
		d.kind, d.msg = errMemory, fmt.Sprintf("memory budget of %d MiB exceeded", w.budget.Memory>>20)
	case cause == causeCPU:
		d.kind, d.msg = errCPU, fmt.Sprintf("CPU budget of %s exceeded (stopped inside a builtin after %s)", w.budget.CPU, time.Duration(detail).Round(time.Millisecond))
	case w.killedAs == errCPU:
		d.kind, d.msg = errCPU, fmt.Sprintf("time budget exceeded: no answer within %s", w.killWall)
	case strings.Contains(errOut, "out of memory") || strings.Contains(errOut, "cannot allocate memory"):
		d.kind, d.msg = errMemory, fmt.Sprintf("memory budget of %d MiB exceeded", w.budget.Memory>>20)
	case strings.Contains(errOut, "stack exceeds") || strings.Contains(errOut, "stack overflow"):
		d.kind, d.msg = errMemory, "recursion too deep"
	default:
		d.msg = fmt.Sprintf("policy worker died (%v)", w.waitErr)
	}
	return d
}

// tail keeps the last bytes written to it: the worker's stderr, read only
// to classify how it died (never shown: it may hold a Go stack trace).
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-4096:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.Clone(t.buf))
}

// loadReq is one file to load.
type loadReq struct {
	id     uint64
	name   string
	src    []byte
	states map[string][]byte
}

// load loads a file in the worker and returns its policies or problems.
func (w *workerProc) load(r loadReq) ([]policyMeta, []string, error) {
	w.seq++
	w.prog.set(progCause, 0)
	w.e.reset(msgLoad)
	w.e.uint(w.seq)
	w.e.uint(r.id)
	w.e.str(r.name)
	w.e.bytes(r.src)
	w.e.uint(uint64(len(r.states)))
	for n, s := range r.states {
		w.e.str(n)
		w.e.bytes(s)
	}
	if err := w.send(); err != nil {
		return nil, nil, w.died(w.seq)
	}
	typ, payload, err := w.recv(w.seq)
	if err != nil {
		return nil, nil, err
	}
	if typ != msgLoaded {
		w.kill(errWorker)
		return nil, nil, fmt.Errorf("policy worker: unexpected message %d", typ)
	}
	d := dec{b: payload}
	d.uint()
	problems := d.strs()
	metas := make([]policyMeta, d.count(9))
	for i := range metas {
		metas[i] = d.meta()
	}
	return metas, problems, d.err
}

func (w *workerProc) unload(id uint64) error {
	w.e.reset(msgUnload)
	w.e.uint(id)
	return w.send()
}

// roundItem is one policy to evaluate in a round.
type roundItem struct {
	file, idx uint64
	mayAct    bool
}

// answerer answers the worker's queries during a round.
type answerer interface {
	peers() (map[string][]byte, error)
	uciGet(pkg, section, option string) (string, bool, error)
}

// round evaluates items; doc is sent when newDoc. On the worker's death it
// returns a *death naming the item.
func (w *workerProc) round(now time.Time, doc []byte, newDoc bool, event []byte, items []roundItem, a answerer) ([]evalResult, error) {
	w.seq++
	w.prog.set(progCause, 0)
	w.e.reset(msgRound)
	w.e.uint(w.seq)
	w.e.int(now.UnixNano())
	w.e.bool(newDoc)
	if newDoc {
		w.e.bytes(doc)
	}
	w.e.bytes(event)
	w.e.uint(uint64(len(items)))
	for _, it := range items {
		w.e.uint(it.file)
		w.e.uint(it.idx)
		w.e.bool(it.mayAct)
	}
	if err := w.send(); err != nil {
		return nil, w.died(w.seq)
	}
	for {
		typ, payload, err := w.recv(w.seq)
		if err != nil {
			return nil, err
		}
		d := dec{b: payload}
		switch typ {
		case msgQuery:
			if err := w.answer(&d, a); err != nil {
				return nil, w.died(w.seq)
			}
		case msgRoundDone:
			if d.uint() != w.seq {
				w.kill(errWorker)
				return nil, fmt.Errorf("policy worker: answer to another round")
			}
			res := make([]evalResult, d.count(5))
			for i := range res {
				res[i] = d.result()
			}
			if d.err != nil || len(res) != len(items) {
				w.kill(errWorker)
				return nil, fmt.Errorf("policy worker: malformed results")
			}
			return res, nil
		default:
			w.kill(errWorker)
			return nil, fmt.Errorf("policy worker: unexpected message %d", typ)
		}
	}
}

func (w *workerProc) answer(d *dec, a answerer) error {
	var kind byte
	if len(d.b) > 0 {
		kind, d.b = d.b[0], d.b[1:]
	}
	args := d.strs()
	var e enc
	e.reset(msgAnswer)
	if a == nil {
		a = noAnswers{}
	}
	switch {
	case kind == queryPeers:
		docs, err := a.peers()
		if err != nil {
			e.str(err.Error())
			break
		}
		e.str("")
		e.uint(uint64(len(docs)))
		for id, doc := range docs {
			e.str(id)
			e.bytes(doc)
		}
	case kind == queryUCI && len(args) == 3:
		v, ok, err := a.uciGet(args[0], args[1], args[2])
		if err != nil {
			e.str(err.Error())
			break
		}
		e.str("")
		e.bool(ok)
		e.str(v)
	default:
		e.str("unknown query")
	}
	_, err := w.toW.Write(e.frame())
	return err
}

// test runs a test file against its policy file in the worker.
func (w *workerProc) test(pname string, psrc []byte, tname string, tsrc []byte) ([]caseResult, string, error) {
	w.seq++
	w.prog.set(progCause, 0)
	saved := w.killWall
	w.killWall = testCaseBudget + 2*time.Second
	defer func() { w.killWall = saved }()
	w.e.reset(msgTest)
	w.e.uint(w.seq)
	w.e.str(pname)
	w.e.bytes(psrc)
	w.e.str(tname)
	w.e.bytes(tsrc)
	if err := w.send(); err != nil {
		return nil, "", w.died(w.seq)
	}
	typ, payload, err := w.recv(w.seq)
	if err != nil {
		return nil, "", err
	}
	if typ != msgTestDone {
		w.kill(errWorker)
		return nil, "", fmt.Errorf("policy worker: unexpected message %d", typ)
	}
	d := dec{b: payload}
	fileErr := d.str()
	res := make([]caseResult, d.count(2))
	for i := range res {
		res[i] = caseResult{name: d.str(), failure: d.str()}
	}
	return res, fileErr, d.err
}

// noAnswers answers queries where there is no node around (policy eval):
// no peers, no UCI values.
type noAnswers struct{}

func (noAnswers) peers() (map[string][]byte, error)                   { return nil, nil }
func (noAnswers) uciGet(string, string, string) (string, bool, error) { return "", false, nil }
