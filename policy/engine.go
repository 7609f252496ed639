package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
)

// Config configures an Engine. The agent fills it from UCI
// (nodekeeper.policy.*).
type Config struct {
	// Dir is the policy directory that Reload and Run's file watch read
	// (*.lua files, not *_test.lua).
	Dir string
	// Budget bounds every load and evaluation.
	Budget Budget
	// DryRun computes and logs decisions but performs no action.
	DryRun bool
	// UCIAllow lists the UCI packages policies may read and write.
	UCIAllow []string
	// QuarantineAfter consecutive failures put a policy in quarantine
	// (default 3) for QuarantineBackoff (default 1m), doubling at each
	// failed retry up to QuarantineMax (default 1h).
	QuarantineAfter   int
	QuarantineBackoff time.Duration
	QuarantineMax     time.Duration
	// Actuator performs actions; nil means every action is dry-run.
	Actuator Actuator
	// Node gives the node document for periodic policies (Tick, Run).
	Node NodeSource
	// Peers answers peers(); nil gives an empty table.
	Peers PeerSource
	// Sink receives the decision log; may be nil.
	Sink DecisionSink
	// Logger logs load problems, failures and quarantines; default
	// slog.Default().
	Logger *slog.Logger
	// Worker says how to start the worker process.
	Worker WorkerSpec
}

// An Engine runs policies: it loads files into a worker process, evaluates
// policies on their schedule or on events, resolves conflicts, performs the
// actions through the Actuator and logs every decision. Its methods are safe
// for concurrent use; rounds run one at a time.
type Engine struct {
	cfg Config
	log *slog.Logger

	// reloadMu keeps Reloads in order: each reads the directory unlocked
	// (mu), and an older read must not be loaded after a newer one.
	reloadMu sync.Mutex
	mu       sync.Mutex
	w        *workerProc
	docSent  []byte // the node document the worker holds
	files    map[string]*loadedFile
	failed   map[string][]byte // source of files whose last load failed
	policies map[string]*rtPolicy
	nextID   uint64
	wake     chan struct{}
	closed   bool
	ctx      context.Context // of the round running, for the answerer
}

type loadedFile struct {
	name     string
	src      []byte
	id       uint64
	policies []*rtPolicy
}

// rtPolicy is a policy as the engine schedules it.
type rtPolicy struct {
	meta             policyMeta
	file             *loadedFile
	idx              int
	state            []byte
	heldSince        time.Time
	lastAct          time.Time
	next             time.Time
	fails            int
	backoff          time.Duration
	quarantinedUntil time.Time
}

func (p *rtPolicy) source() string { return fmt.Sprintf("%s:%d", p.file.name, p.meta.Line) }

// A LoadError lists the problems of a file that failed to load, each as
// "file:line: message". The file's previous version, if any, keeps running.
type LoadError struct {
	File     string
	Problems []string
}

func (e *LoadError) Error() string { return strings.Join(e.Problems, "\n") }

// New returns an engine; the worker starts with the first load.
func New(cfg Config) (*Engine, error) {
	cfg.Budget = cfg.Budget.withDefaults()
	if cfg.QuarantineAfter <= 0 {
		cfg.QuarantineAfter = 3
	}
	if cfg.QuarantineBackoff <= 0 {
		cfg.QuarantineBackoff = time.Minute
	}
	if cfg.QuarantineMax <= 0 {
		cfg.QuarantineMax = time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if _, err := cfg.Worker.argv(); err != nil {
		return nil, err
	}
	return &Engine{cfg: cfg, log: cfg.Logger, files: map[string]*loadedFile{}, failed: map[string][]byte{},
		policies: map[string]*rtPolicy{}, wake: make(chan struct{}, 1)}, nil
}

// Close stops the worker.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	e.dropWorker()
	return nil
}

func (e *Engine) dropWorker() {
	if e.w != nil {
		e.w.close()
		e.w = nil
		e.docSent = nil
	}
}

// worker returns the running worker, starting one (and loading every file
// into it, with the policies' states) when there is none.
func (e *Engine) worker() (*workerProc, error) {
	if e.closed {
		return nil, errors.New("policy engine is closed")
	}
	if e.w != nil {
		return e.w, nil
	}
	w, err := startWorker(e.cfg.Worker, e.cfg.Budget, e.cfg.UCIAllow)
	if err != nil {
		return nil, err
	}
	e.w = w
	names := make([]string, 0, len(e.files))
	for n := range e.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := e.files[n]
		_, problems, err := w.load(loadReq{id: f.id, name: f.name, src: f.src, states: statesOf(f.policies)})
		if err != nil {
			e.w.close()
			e.w = nil
			return nil, fmt.Errorf("policy worker: reloading %s: %w", n, err)
		}
		if len(problems) > 0 {
			e.log.Error("policy file failed to reload in a new worker", "file", n, "error", problems[0])
		}
	}
	return w, nil
}

func statesOf(ps []*rtPolicy) map[string][]byte {
	m := map[string][]byte{}
	for _, p := range ps {
		if p.state != nil {
			m[p.meta.Name] = p.state
		}
	}
	return m
}

// Load loads (or replaces) one policy file. On failure it returns a
// *LoadError and the file's previous version keeps running.
func (e *Engine) Load(name string, src []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.load(name, src, time.Now())
}

// maxFileSize bounds a policy file.
const maxFileSize = 256 << 10

func (e *Engine) load(name string, src []byte, now time.Time) error {
	old := e.files[name]
	fail := func(problems []string) error {
		e.failed[name] = src
		lerr := &LoadError{File: name, Problems: problems}
		e.log.Error("policy file failed to load", "file", name, "error", lerr.Error(), "kept_previous", old != nil)
		e.emit(Decision{Time: now, Policy: "", Source: name, Trigger: "load", Error: lerr.Error()})
		return lerr
	}
	if len(src) > maxFileSize {
		return fail([]string{fmt.Sprintf("%s:1: file is larger than %d KiB", name, maxFileSize>>10)})
	}
	var states map[string][]byte
	if old != nil {
		states = statesOf(old.policies)
	}
	e.nextID++
	id := e.nextID
	w, err := e.worker()
	if err != nil {
		return fail([]string{fmt.Sprintf("%s:1: %v", name, err)})
	}
	metas, problems, err := w.load(loadReq{id: id, name: name, src: src, states: states})
	if err != nil {
		e.dropWorker()
		var d *death
		if errors.As(err, &d) {
			return fail([]string{fmt.Sprintf("%s:1: %s (while running the file's top level)", name, d.msg)})
		}
		return fail([]string{fmt.Sprintf("%s:1: %v", name, err)})
	}
	if len(problems) > 0 {
		return fail(problems)
	}
	for _, m := range metas {
		if !validPolicyName(m.Name) { // the worker's word is not taken
			w.unload(id)
			return fail([]string{fmt.Sprintf("%s:%d: a policy name of %d bytes outside the grammar", name, m.Line, len(m.Name))})
		}
		if p, ok := e.policies[m.Name]; ok && p.file.name != name {
			w.unload(id)
			return fail([]string{fmt.Sprintf("%s:%d: policy %q is already declared in %s", name, m.Line, m.Name, p.source())})
		}
	}
	f := &loadedFile{name: name, src: src, id: id}
	for i, m := range metas {
		p := &rtPolicy{meta: m, file: f, idx: i}
		if prev, ok := e.policies[m.Name]; ok {
			// A reload keeps the policy's state and schedule.
			p.state, p.heldSince, p.lastAct, p.fails, p.backoff, p.quarantinedUntil =
				prev.state, prev.heldSince, prev.lastAct, prev.fails, prev.backoff, prev.quarantinedUntil
			if prev.meta.Every == m.Every {
				p.next = prev.next
			}
		}
		f.policies = append(f.policies, p)
	}
	if old != nil {
		for _, p := range old.policies {
			delete(e.policies, p.meta.Name)
		}
		w.unload(old.id)
	}
	for _, p := range f.policies {
		e.policies[p.meta.Name] = p
	}
	e.files[name] = f
	delete(e.failed, name)
	e.log.Info("policy file loaded", "file", name, "policies", len(f.policies))
	e.poke()
	return nil
}

// Unload removes a file's policies.
func (e *Engine) Unload(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.unload(name)
}

func (e *Engine) unload(name string) {
	delete(e.failed, name)
	f := e.files[name]
	if f == nil {
		return
	}
	for _, p := range f.policies {
		delete(e.policies, p.meta.Name)
	}
	delete(e.files, name)
	if e.w != nil {
		e.w.unload(f.id)
	}
	e.log.Info("policy file unloaded", "file", name)
}

func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Engine) emit(d Decision) {
	if e.cfg.Sink != nil {
		e.cfg.Sink.Decision(d)
	}
}

// Status describes one loaded policy.
type Status struct {
	Name             string        `json:"name"`
	Source           string        `json:"source"`
	Description      string        `json:"description,omitempty"`
	Every            time.Duration `json:"every,omitempty"`
	On               string        `json:"on,omitempty"`
	Priority         int64         `json:"priority"`
	DryRun           bool          `json:"dry_run,omitempty"`
	Failures         int           `json:"failures"`
	Next             time.Time     `json:"next,omitzero"`
	QuarantinedUntil time.Time     `json:"quarantined_until,omitzero"`
}

// FailedFiles lists the files whose last load failed (their previous
// version, if any, keeps running), sorted.
func (e *Engine) FailedFiles() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, 0, len(e.failed))
	for name := range e.failed {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Policies lists the loaded policies by name.
func (e *Engine) Policies() []Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Status, 0, len(e.policies))
	for _, p := range e.policies {
		s := Status{Name: p.meta.Name, Source: p.source(), Description: p.meta.Description, Every: time.Duration(p.meta.Every),
			On: p.meta.On, Priority: p.meta.Priority, DryRun: p.meta.DryRun, Failures: p.fails, QuarantinedUntil: p.quarantinedUntil}
		if p.meta.Every > 0 {
			s.Next = p.next
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// noDocumentRetry is how soon periodic policies are tried again when the
// node source has no document yet.
const noDocumentRetry = time.Second

// Tick evaluates the periodic policies that are due at now (and not in
// quarantine) against the node document, performs their actions and
// returns the decisions. While the node source (Config.Node) has no
// document yet, due policies wait for it (tried again every second).
func (e *Engine) Tick(ctx context.Context, now time.Time) []Decision {
	e.mu.Lock()
	defer e.mu.Unlock()
	var doc []byte
	if e.cfg.Node != nil {
		doc = e.cfg.Node.NodeDocument()
	}
	var due []*rtPolicy
	for _, p := range e.policies {
		if p.meta.Every == 0 || p.next.After(now) || now.Before(p.quarantinedUntil) {
			continue
		}
		if e.cfg.Node != nil && doc == nil {
			// No sample yet (the agent just started): policies are
			// written against the node document, so they wait for the
			// first one instead of failing on an empty one.
			p.next = now.Add(min(time.Duration(p.meta.Every), noDocumentRetry))
			continue
		}
		every := time.Duration(p.meta.Every)
		p.next = p.next.Add(every)
		if !p.next.After(now) {
			p.next = now.Add(every)
		}
		due = append(due, p)
	}
	if len(due) == 0 {
		return nil
	}
	return e.round(ctx, now, due, doc, nil, true)
}

// nextDue is when the next periodic policy is due; ok is false if none.
func (e *Engine) nextDue() (next time.Time, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.policies {
		if p.meta.Every == 0 {
			continue
		}
		t := p.next
		if t.Before(p.quarantinedUntil) {
			t = p.quarantinedUntil
		}
		if !ok || t.Before(next) {
			next, ok = t, true
		}
	}
	return next, ok
}

// An Event is something that happened on the node, for policies declared
// with on = Name. Data becomes the policy's second argument (with name
// set to Name).
type Event struct {
	Name string
	Data map[string]any
}

// Event evaluates the policies waiting for ev and returns the decisions.
func (e *Engine) Event(ctx context.Context, ev Event, now time.Time) []Decision {
	data := map[string]any{}
	for k, v := range ev.Data {
		data[k] = v
	}
	data["name"] = ev.Name
	raw, err := json.Marshal(data)
	if err != nil {
		e.log.Error("policy event cannot be encoded", "event", ev.Name, "error", err)
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var ps []*rtPolicy
	for _, p := range e.policies {
		if p.meta.On == ev.Name && !now.Before(p.quarantinedUntil) {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return nil
	}
	var doc []byte
	if e.cfg.Node != nil {
		doc = e.cfg.Node.NodeDocument()
	}
	return e.round(ctx, now, ps, doc, raw, ev.Name != EventAdmit)
}

// An AdmitRequest asks whether a sliver may be admitted on the node.
type AdmitRequest struct {
	Sliver    string    `json:"sliver"`
	Slice     string    `json:"slice"`
	Owner     string    `json:"owner"` // the owner's public key
	Resources Resources `json:"resources"`
}

// Resources a sliver asks for.
type Resources struct {
	CPU         float64 `json:"cpu,omitempty"` // cores
	MemoryBytes int64   `json:"memory_bytes,omitempty"`
	DiskBytes   int64   `json:"disk_bytes,omitempty"`
}

// An Admission is the answer of the admission policies.
type Admission struct {
	Allowed bool
	// Policy and Reason name the refusing policy and its reason.
	Policy string
	Reason string
	// Decisions of the admission policies that ran.
	Decisions []Decision
}

// Admit runs the admission policies (on = "sliver.admit") for req. The
// sliver is refused when a policy of highest priority calls refuse(reason)
// (and is not in dry-run). A policy that fails does not refuse.
func (e *Engine) Admit(ctx context.Context, req AdmitRequest, now time.Time) Admission {
	data := map[string]any{"sliver": req.Sliver, "slice": req.Slice, "owner": req.Owner, "resources": req.Resources}
	ds := e.Event(ctx, Event{Name: EventAdmit, Data: data}, now)
	a := Admission{Allowed: true, Decisions: ds}
	for _, d := range ds {
		for _, ar := range d.Actions {
			if ar.Op == OpRefuse && ar.Result == ResultRefused && a.Allowed {
				a.Allowed, a.Policy, a.Reason = false, d.Policy, ar.Message
			}
		}
	}
	return a
}

// round evaluates ps once, in one worker round, and handles what follows:
// state, hold and cooldown, failures and quarantine, conflicts, actions and
// the decision log. gate applies hold and cooldown.
func (e *Engine) round(ctx context.Context, now time.Time, ps []*rtPolicy, doc, event []byte, gate bool) []Decision {
	e.ctx = ctx
	defer func() { e.ctx = nil }()
	sort.Slice(ps, func(i, j int) bool { return ps[i].meta.Name < ps[j].meta.Name })
	if len(doc) == 0 {
		doc = []byte("{}")
	}
	results := make([]evalResult, len(ps))
	pending := make([]int, len(ps))
	for i := range pending {
		pending[i] = i
	}
	for len(pending) > 0 {
		w, err := e.worker()
		if err != nil {
			for _, i := range pending {
				results[i] = evalResult{Err: fmt.Sprintf("%s: %v", ps[i].source(), err), Kind: errWorker}
			}
			break
		}
		items := make([]roundItem, len(pending))
		for k, i := range pending {
			p := ps[i]
			items[k] = roundItem{file: p.file.id, idx: uint64(p.idx), mayAct: !gate || p.mayAct(now)}
		}
		newDoc := !bytes.Equal(doc, e.docSent)
		res, err := w.round(now, doc, newDoc, event, items, e)
		if err == nil {
			e.docSent = doc
			for k, i := range pending {
				results[i] = res[k]
			}
			break
		}
		e.dropWorker()
		var d *death
		if !errors.As(err, &d) || d.item >= len(pending) {
			for _, i := range pending {
				results[i] = evalResult{Err: fmt.Sprintf("%s: %v", ps[i].source(), err), Kind: errWorker}
			}
			break
		}
		// Blame the item that was running; run the others again in a new
		// worker (results of the dead worker's finished items are lost).
		i := pending[d.item]
		results[i] = evalResult{Err: fmt.Sprintf("%s: policy %q: %s", ps[i].source(), ps[i].meta.Name, d.msg), Kind: d.kind}
		pending = append(pending[:d.item:d.item], pending[d.item+1:]...)
	}
	trigger := "event "
	if event == nil {
		trigger = "every "
	}
	decisions := e.resolve(ctx, now, ps, results, gate, trigger)
	for _, d := range decisions {
		e.emit(d)
	}
	return decisions
}

// mayAct says whether act may run now if the condition holds: the
// condition has held for hold, and the cooldown since the last act is
// over.
func (p *rtPolicy) mayAct(now time.Time) bool {
	if !p.lastAct.IsZero() && now.Sub(p.lastAct) < time.Duration(p.meta.Cooldown) {
		return false
	}
	if p.meta.Hold == 0 {
		return true
	}
	return !p.heldSince.IsZero() && now.Sub(p.heldSince) >= time.Duration(p.meta.Hold)
}

// answerer for the worker's queries.
func (e *Engine) peers() (map[string][]byte, error) {
	if e.cfg.Peers == nil {
		return nil, nil
	}
	return e.cfg.Peers.PeerDocuments(), nil
}

func (e *Engine) uciGet(pkg, section, option string) (string, bool, error) {
	if !allowed(e.cfg.UCIAllow, pkg) {
		return "", false, fmt.Errorf("package %q is not allow-listed", pkg)
	}
	if e.cfg.Actuator == nil {
		return "", false, nil
	}
	return e.cfg.Actuator.UCIGet(e.ctx, pkg, section, option)
}

func allowed(list []string, pkg string) bool {
	for _, p := range list {
		if p == pkg {
			return true
		}
	}
	return false
}
