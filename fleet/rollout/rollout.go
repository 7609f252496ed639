package rollout

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/deliver"
	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/plan"
	"github.com/nodekeeper/nodekeeper/wire"
)

// Options are an apply's rules and means.
type Options struct {
	// Key signs the record and the documents; CoSigners sign the
	// documents too (nodes with remote.threshold N need N signers).
	Key       wire.SecretKey
	CoSigners []wire.SecretKey
	Trusted   []wire.PublicKey // keys whose records are trusted (Key's own is added)
	Who       string
	// Canary is the first wave's size (default 1); each next wave is
	// Growth times the last (default 2); a wave must stay online Soak
	// after it applied (default 60s; negative: none); a wave with more
	// than MaxFailed of its nodes failed stops the rollout (default 0.1).
	Canary    int
	Growth    float64
	Soak      time.Duration
	MaxFailed float64
	// WaveTimeout bounds the wait for a wave's reports (default 5m).
	WaveTimeout time.Duration
	// Quiet is the snapshot's quiet time (default 500ms).
	Quiet time.Duration
	// TakeOver starts anew over another rollout that is running; Resume
	// continues a running rollout of the same plan.
	TakeOver, Resume bool
	// Plan are changes to the plan beyond the directory's (aggregation
	// policies' effects); its Exclude adds to the refusals the record keeps.
	Plan plan.Options
	// Decisions are the aggregation policies' decisions, kept in the record.
	Decisions []string
	// Verifier checks nodes' signed state reports.
	Verifier inventory.Verifier
	// Out gets one line per event. With Terminal, a wave's reports are
	// one line updated in place (\r), and only the nodes that did not
	// simply apply get a line of their own.
	Out      io.Writer
	Terminal bool
}

func (o *Options) defaults() {
	if o.Canary <= 0 {
		o.Canary = 1
	}
	if o.Growth < 1 {
		o.Growth = 2
	}
	if o.Soak == 0 {
		o.Soak = 60 * time.Second
	}
	if o.Soak < 0 {
		o.Soak = 0
	}
	if o.MaxFailed <= 0 {
		o.MaxFailed = 0.1
	}
	if o.WaveTimeout <= 0 {
		o.WaveTimeout = 5 * time.Minute
	}
	if o.Quiet <= 0 {
		o.Quiet = 500 * time.Millisecond
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
}

// Errors an apply ends with.
var (
	// ErrLocked: another rollout is running (--resume or --take-over).
	ErrLocked = errors.New("another rollout is running")
	// ErrWaveFailed: a wave failed; its nodes got their previous documents back.
	ErrWaveFailed = errors.New("a wave failed: rollout stopped and the wave rolled back")
	// ErrPlan: the plan has problems; nothing was pushed.
	ErrPlan = errors.New("the plan has problems: nothing pushed")
)

// Apply renders the plan, and pushes the nodes whose documents change in
// waves, keeping the record retained as it goes. It returns the record.
func Apply(ctx context.Context, c *broker.Conn, f *dir.Fleet, o Options) (*Record, error) {
	o.defaults()
	trusted := append(slices.Clone(o.Trusted), o.Key.Public())
	prev, rerr := Read(ctx, c, trusted, o.Quiet)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	// Node keys: those the enrolment list gives, else those a verified
	// record pinned; a node with neither is pinned on first sight.
	v := o.Verifier
	pinned := map[string]wire.PublicKey{}
	if rerr == nil {
		pinned = prev.Pinned()
	}
	for id, k := range v.Pinned {
		pinned[id] = k
	}
	v.Pinned = pinned
	inv, err := inventory.Read(ctx, c, v, o.Quiet)
	if err != nil {
		return nil, err
	}
	w, err := deliver.Watch(ctx, c, inv, v, "+")
	if err != nil {
		return nil, err
	}
	var exclude map[string]map[string]string
	if prev != nil && rerr == nil { // a record that does not verify says nothing
		exclude = prev.Refusals
	}
	var p *plan.Plan
	w.View(func(inv *inventory.Inventory) { p = plan.Render(f, inv, planOptions(o.Plan, exclude)) })
	if len(p.Problems) > 0 {
		return nil, fmt.Errorf("%w:\n%s", ErrPlan, strings.Join(p.Problems, "\n"))
	}

	rec := &Record{Who: o.Who, Key: o.Key.Public().ID(), Started: time.Now().UTC().Truncate(time.Millisecond), PlanHash: p.Hash, State: Running,
		Options: Settings{Canary: o.Canary, Growth: o.Growth, SoakSecs: o.Soak.Seconds(), MaxFailed: o.MaxFailed},
		Nodes:   map[string]*NodeOutcome{}, Refusals: exclude}
	if prev != nil && prev.State == Running {
		switch {
		case rerr != nil && !o.TakeOver:
			return prev, fmt.Errorf("%w (its record does not verify: %v); --take-over to start anew", ErrLocked, rerr)
		case o.Resume && rerr == nil:
			if prev.PlanHash != p.Hash {
				return prev, fmt.Errorf("%w: started by %s at %s for plan %.12s, and the plan is now %.12s: --take-over to start anew", ErrLocked, prev.Who, prev.Started.Format(time.RFC3339), prev.PlanHash, p.Hash)
			}
			rec = prev
			// Nodes pushed before the interruption: what became of them.
			w.View(func(inv *inventory.Inventory) {
				for id, no := range rec.Nodes {
					if no.Outcome != OutPushed {
						continue
					}
					if out, ok := deliver.OutcomeOf(inv.Node(id), no.Seq); ok {
						no.Outcome, no.Reason = string(out.Result), out.Reason
					} else if !inv.Node(id).Online() {
						no.Outcome = OutPending
					}
				}
			})
			fmt.Fprintf(o.Out, "resuming rollout %s (started by %s at %s, %d waves done)\n", rec.ID, rec.Who, rec.Started.Format(time.RFC3339), len(rec.Waves))
		case o.TakeOver:
			fmt.Fprintf(o.Out, "taking over rollout %s of %s (started %s)\n", prev.ID, prev.Who, prev.Started.Format(time.RFC3339))
		default:
			return prev, fmt.Errorf("%w: started by %s at %s (plan %.12s, %d waves): --resume to continue it, --take-over to start anew", ErrLocked, prev.Who, prev.Started.Format(time.RFC3339), prev.PlanHash, len(prev.Waves))
		}
	}
	rec.Decisions = o.Decisions
	if rec.NodeKeys == nil {
		rec.NodeKeys = map[string]string{}
	}
	for id, k := range pinned {
		rec.NodeKeys[id] = k.String()
	}
	if rec.ID == "" {
		var b [6]byte
		rand.Read(b[:])
		rec.ID = hex.EncodeToString(b[:])
	}
	if rec.Refusals == nil {
		rec.Refusals = map[string]map[string]string{}
	}
	r := &run{c: c, f: f, o: o, w: w, rec: rec, p: p, pushes: map[string]int{}}
	err = r.waves(ctx)
	if ctx.Err() != nil {
		// Interrupted: the record stays running, to be resumed.
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rec.Note = "interrupted"
		rec.save(sctx, c, o.Key)
		return rec, ctx.Err()
	}
	if serr := rec.save(ctx, c, o.Key); err == nil {
		err = serr
	}
	return rec, err
}

// planOptions adds the refusals a record keeps to extra's exclusions.
func planOptions(extra plan.Options, refusals map[string]map[string]string) plan.Options {
	o := extra
	o.Exclude = map[string]map[string]string{}
	for _, m := range []map[string]map[string]string{refusals, extra.Exclude} {
		for slice, nodes := range m {
			if o.Exclude[slice] == nil {
				o.Exclude[slice] = map[string]string{}
			}
			for n, why := range nodes {
				o.Exclude[slice][n] = why
			}
		}
	}
	return o
}

// run is one apply in progress.
type run struct {
	c   *broker.Conn
	f   *dir.Fleet
	o   Options
	w   *deliver.Watcher
	rec *Record
	p   *plan.Plan
	// pushes counts the documents each node got in this run.
	pushes map[string]int
}

// maxPushes bounds the documents one node gets in one rollout: a
// refusal changes a document once more, anything beyond is a plan that
// does not settle.
const maxPushes = 3

// todo returns the nodes whose rendered document differs from what is
// retained for them, the online ones first (a canary must be able to
// answer), each group in id order.
func (r *run) todo() ([]*plan.NodeChange, []string) {
	var changes []*plan.NodeChange
	r.w.View(func(inv *inventory.Inventory) {
		r.p = plan.Render(r.f, inv, planOptions(r.o.Plan, r.rec.Refusals))
		changes = plan.Compare(r.p, inv)
		sort.SliceStable(changes, func(i, j int) bool {
			a, b := inv.Node(changes[i].Node).Online(), inv.Node(changes[j].Node).Online()
			return a && !b
		})
	})
	var out []*plan.NodeChange
	for _, c := range changes {
		if c.Changed() {
			out = append(out, c)
		}
	}
	return out, r.p.Problems
}

// waves runs waves until nothing changes any more.
func (r *run) waves(ctx context.Context) error {
	size := float64(r.o.Canary)
	for range r.rec.Waves { // a resumed rollout continues the sizes
		size *= r.o.Growth
	}
	if err := r.rec.save(ctx, r.c, r.o.Key); err != nil {
		return err
	}
	for {
		todo, problems := r.todo()
		if len(problems) > 0 {
			return fmt.Errorf("%w:\n%s", ErrPlan, strings.Join(problems, "\n"))
		}
		// A node is pushed once per rollout (a refusal may change its
		// document again: that is a new push, in a later wave).
		if len(todo) == 0 {
			r.rec.State = Done
			fmt.Fprintf(r.o.Out, "rollout %s done: %s\n", r.rec.ID, r.summary())
			return nil
		}
		n := min(len(todo), int(math.Ceil(size)))
		for _, c := range todo[:n] {
			if r.pushes[c.Node]++; r.pushes[c.Node] > maxPushes {
				return fmt.Errorf("node %s: its document changed %d times in this rollout (%s): stopped", c.Node, maxPushes, strings.Join(c.Changes, ", "))
			}
		}
		if err := r.wave(ctx, todo[:n]); err != nil {
			return err
		}
		size *= r.o.Growth
	}
}

func (r *run) summary() string {
	count := map[string]int{}
	for _, n := range r.rec.Nodes {
		count[n.Outcome]++
	}
	var parts []string
	for _, k := range []string{OutApplied, OutRefused, OutPending, OutFailed, OutRolledBack, OutPushed} {
		if count[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[k], k))
		}
	}
	if len(parts) == 0 {
		return "nothing to change"
	}
	return strings.Join(parts, ", ")
}

// wave pushes one wave, waits for its reports and its soak, and rolls it
// back if too many failed.
func (r *run) wave(ctx context.Context, changes []*plan.NodeChange) error {
	wi := len(r.rec.Waves)
	wv := &Wave{State: Running}
	r.rec.Waves = append(r.rec.Waves, wv)
	type pushed struct {
		id     string
		seq    uint64
		online bool
		before map[string]bool // refusals without a seq before the push
	}
	var ps []pushed
	for _, ch := range changes {
		wv.Nodes = append(wv.Nodes, ch.Node)
		var seq uint64
		var signed, online bool
		var prevDoc []byte
		var prevSeq uint64
		var before map[string]bool
		r.w.View(func(inv *inventory.Inventory) {
			n := inv.Node(ch.Node)
			before = deliver.SeqlessRefusals(n)
			seq, signed = deliver.NextSeq(n)
			online = n.Online()
			if n.Desired != nil {
				prevDoc, prevSeq = n.Desired.Document, n.Desired.Seq
			}
		})
		no := &NodeOutcome{Wave: wi, Seq: seq, Outcome: OutPushed, Changes: ch.Changes, PrevSeq: prevSeq}
		if old := r.rec.Nodes[ch.Node]; old != nil && old.Previous != "" {
			// Pushed before in this rollout: its previous document is the
			// one from before the rollout.
			no.Previous, no.PrevSeq = old.Previous, old.PrevSeq
		} else if prevDoc != nil {
			no.Previous = r.rec.keep(prevDoc)
		}
		if !signed {
			// The report verified with the key it carries, not yet pinned
			// (first sight): its seq is used, and the record pins the key.
			no.Reason = "seq from a state report whose key was seen for the first time (now pinned by this record)"
		}
		r.rec.Nodes[ch.Node] = no
		ps = append(ps, pushed{ch.Node, seq, online, before})
	}
	// Keys first seen now are pinned by the record from here on.
	r.w.View(func(inv *inventory.Inventory) {
		for id, n := range inv.Nodes {
			if _, ok := r.rec.NodeKeys[id]; !ok && n.StateKey != "" {
				r.rec.NodeKeys[id] = n.StateKey
			}
		}
	})
	// The record, with the previous documents, is retained before any
	// document is pushed: an apply killed now can still roll back.
	if err := r.rec.save(ctx, r.c, r.o.Key); err != nil {
		return err
	}
	fmt.Fprintf(r.o.Out, "wave %d: %d node(s): %s\n", wi+1, len(ps), strings.Join(wv.Nodes, " "))
	for i, pn := range ps {
		doc := changes[i].Doc
		doc.Seq = pn.seq
		b := doc.Marshal()
		if err := deliver.Push(ctx, r.c, r.signers(), pn.id, b); err != nil {
			return fmt.Errorf("node %s: %w", pn.id, err)
		}
		r.w.Pushed(pn.id, pn.seq, b)
	}
	// Reports, all within one WaveTimeout from now.
	deadline := time.Now().Add(r.o.WaveTimeout)
	failed, answered := 0, 0
	counts := map[string]int{}
	for i, pn := range ps {
		no := r.rec.Nodes[pn.id]
		out := r.w.Await(ctx, pn.id, pn.seq, max(time.Until(deadline), time.Millisecond), pn.before)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch out.Result {
		case deliver.Applied:
			answered++
			no.Outcome, no.Reason = OutApplied, ""
			if ref := deliver.RefusedSlivers(out.Refusals); len(ref) > 0 {
				no.Outcome = OutRefused
				var why []string
				for sliver, msg := range ref {
					why = append(why, "sliver "+sliver+": "+msg)
					if _, ok := r.f.Slices[sliver]; ok {
						if r.rec.Refusals[sliver] == nil {
							r.rec.Refusals[sliver] = map[string]string{}
						}
						r.rec.Refusals[sliver][pn.id] = msg
					}
				}
				sort.Strings(why)
				no.Reason = strings.Join(why, "; ")
			}
		case deliver.Pending:
			if pn.online {
				answered++
				failed++
				no.Outcome, no.Reason = OutFailed, "went offline before it reported"
			} else {
				no.Outcome, no.Reason = OutPending, out.Reason
			}
		default:
			answered++
			failed++
			no.Outcome, no.Reason = OutFailed, out.Reason
		}
		if !r.o.Terminal || no.Outcome != OutApplied {
			fmt.Fprintf(r.o.Out, "%s  %s seq %d: %s%s\n", r.clearLine(), pn.id, pn.seq, no.Outcome, reason(no.Reason))
		}
		counts[no.Outcome]++
		if r.o.Terminal {
			fmt.Fprintf(r.o.Out, "\r\033[K  wave %d: %d/%d reported: %d applied, %d refused, %d pending, %d failed",
				wi+1, i+1, len(ps), counts[OutApplied], counts[OutRefused], counts[OutPending], counts[OutFailed])
		}
	}
	if r.o.Terminal {
		fmt.Fprintln(r.o.Out)
	}
	// Soak: the wave's nodes must stay online and keep their documents.
	if failed == 0 && r.o.Soak > 0 && answered > 0 {
		fmt.Fprintf(r.o.Out, "  soak %v\n", r.o.Soak)
		before := map[string]int{}
		for _, pn := range ps {
			before[pn.id] = r.w.Offline(pn.id)
		}
		sctx, cancel := context.WithTimeout(ctx, r.o.Soak)
		var down string
		r.w.Until(sctx, func(inv *inventory.Inventory) bool {
			for _, pn := range ps {
				no := r.rec.Nodes[pn.id]
				if no.Outcome != OutApplied && no.Outcome != OutRefused {
					continue
				}
				n := inv.Node(pn.id)
				if r.w.OfflineLocked(pn.id) > before[pn.id] || !n.Online() {
					down = pn.id + " went offline during the soak"
					return true
				}
				if n.State != nil && n.State.AppliedSeq != pn.seq {
					down = fmt.Sprintf("%s left seq %d during the soak (applied %d)", pn.id, pn.seq, n.State.AppliedSeq)
					return true
				}
			}
			return false
		})
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if down != "" {
			id, _, _ := strings.Cut(down, " ")
			r.rec.Nodes[id].Outcome, r.rec.Nodes[id].Reason = OutFailed, down
			failed++
			fmt.Fprintf(r.o.Out, "  %s\n", down)
		}
	}
	wv.Failed = failed
	if answered > 0 && float64(failed)/float64(answered) > r.o.MaxFailed {
		wv.State = "failed"
		r.rec.Note = fmt.Sprintf("wave %d: %d of %d failed (more than %.0f%%)", wi+1, failed, answered, r.o.MaxFailed*100)
		fmt.Fprintf(r.o.Out, "%s: stopping and rolling the wave back\n", r.rec.Note)
		ids := make([]string, len(ps))
		for i, pn := range ps {
			ids[i] = pn.id
		}
		if err := r.rollback(ctx, ids); err != nil {
			r.rec.State = Stopped
			return fmt.Errorf("%w; rollback: %v", ErrWaveFailed, err)
		}
		r.rec.State = RolledBack
		return ErrWaveFailed
	}
	wv.State = "applied"
	return r.rec.save(ctx, r.c, r.o.Key)
}

// signers are the keys that sign documents.
func (r *run) signers() []wire.SecretKey {
	return append([]wire.SecretKey{r.o.Key}, r.o.CoSigners...)
}

// clearLine clears the progress line on a terminal.
func (r *run) clearLine() string {
	if r.o.Terminal {
		return "\r\033[K"
	}
	return ""
}

func reason(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

// rollback gives the nodes their previous documents back, each with a
// new seq; a node that had none gets one that removes what documents
// made (its owner's slivers and files stay).
func (r *run) rollback(ctx context.Context, ids []string) error {
	var errs []error
	for _, id := range ids {
		no := r.rec.Nodes[id]
		var body []byte
		if no.Previous != "" {
			body = r.rec.Previous[no.Previous]
		}
		if body == nil {
			body = []byte(`{"slivers":[],"policies":{}}`)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			errs = append(errs, fmt.Errorf("node %s: previous document: %w", id, err))
			continue
		}
		var seq uint64
		r.w.View(func(inv *inventory.Inventory) { seq, _ = deliver.NextSeq(inv.Node(id)) })
		seq = max(seq, no.Seq+1)
		m["node"], _ = json.Marshal(id)
		m["seq"] = json.RawMessage(fmt.Sprint(seq))
		doc, _ := json.Marshal(m)
		if err := deliver.Push(ctx, r.c, r.signers(), id, doc); err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", id, err))
			continue
		}
		no.Outcome, no.RollbackSeq = OutRolledBack, seq
		fmt.Fprintf(r.o.Out, "  %s: previous document back as seq %d\n", id, seq)
	}
	return errors.Join(errs...)
}
