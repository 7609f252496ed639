package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/telemetry"
	"github.com/nodekeeper/nodekeeper/wire"
)

// runDesired handles desired envelopes one at a time, the latest first
// (an older one not handled yet is dropped for a newer).
func (a *Agent) runDesired(ctx context.Context) {
	var seen envelopeFilter
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-a.desired:
			if !seen.fresh(m) {
				continue
			}
			a.applyMu.Lock()
			a.handleDesired(ctx, m)
			a.applyMu.Unlock()
		}
	}
}

// envelopeFilter tells a new envelope from the one handled last: a
// retained message comes again after every reconnection, and is neither
// applied nor refused twice.
type envelopeFilter struct{ last [32]byte }

func (f *envelopeFilter) fresh(m envelopeMsg) bool {
	sum := sha256.Sum256(m.payload)
	if m.payload == nil {
		sum = sha256.Sum256([]byte("oversized " + strconv.Itoa(m.size)))
	}
	if sum == f.last {
		return false
	}
	f.last = sum
	return true
}

// handleDesired checks an envelope and applies its document, or refuses
// it: too big, unsigned, signed by too few trusted keys (remote.threshold),
// badly signed, for another node, replayed (a seq not above the last
// seen), expired, or malformed. A refusal is logged and reported in the
// state topic; nothing of a refused document is applied. Only a document
// for this node, signed by enough trusted keys, spends its seq. The
// document in force coming again (the retained message after a restart)
// is no news and is ignored quietly. The caller holds applyMu.
func (a *Agent) handleDesired(ctx context.Context, m envelopeMsg) {
	cfg := a.config()
	if m.size == 0 {
		a.log.Info("desired topic cleared: the node keeps its state")
		return
	}
	if m.payload == nil {
		a.refuseUnsigned(fmt.Errorf("desired document of %d bytes exceeds the %d-byte limit", m.size, wire.MaxEnvelopeBytes))
		return
	}
	doc, signers, err := wire.OpenThreshold(cfg.Remote.TrustedKeys, cfg.Remote.Threshold, m.payload)
	if err != nil {
		a.refuseUnsigned(err)
		return
	}
	ids := make([]string, len(signers))
	for i, k := range signers {
		ids[i] = k.ID()
	}
	signedBy := strings.Join(ids, ",")
	var head struct {
		Node    string     `json:"node"`
		Seq     uint64     `json:"seq"`
		TS      *time.Time `json:"ts"`
		Expires *time.Time `json:"expires"`
	}
	if err := json.Unmarshal(doc, &head); err != nil || head.Seq == 0 {
		why := "no valid seq"
		if err != nil {
			why = "an unreadable head (node, seq, ts, expires): " + err.Error()
		}
		a.refuse(0, fmt.Errorf("desired document signed by %s has %s", signedBy, why))
		return
	}
	// Only a document for this node spends its seq: one for another node,
	// republished here, must not (its seq could be 2^64-1).
	if head.Node != cfg.Agent.NodeID {
		a.refuse(head.Seq, fmt.Errorf("desired document: node %q, but this node is %q (its seq is not spent)", boundText(head.Node, 64), cfg.Agent.NodeID))
		return
	}
	a.mu.Lock()
	rs := a.remote
	a.mu.Unlock()
	if head.Seq == rs.AppliedSeq && rs.Document != nil {
		got, applied := docDigest(doc), docDigest(rs.Document)
		if got == applied {
			a.log.Debug("desired document in force received again: nothing to do", "seq", head.Seq)
			return
		}
		a.refuse(head.Seq, fmt.Errorf("desired document seq %d (sha256 %s) is not the document applied with seq %d (sha256 %s): a different document reuses a spent seq, refused", head.Seq, got, rs.AppliedSeq, applied))
		return
	}
	if r := rs.Refused; r != nil && head.Seq == r.Seq && docDigest(doc) == r.Digest {
		// Refused before (this run or an earlier one): no news, but the
		// state report says so again.
		a.log.Info("desired document refused earlier received again: still refused", "seq", head.Seq)
		a.addError("desired", head.Seq, r.Reason)
		return
	}
	if head.Seq <= rs.SeenSeq {
		a.refuse(head.Seq, fmt.Errorf("desired document seq %d is not above the last seen %d: replayed or old, refused", head.Seq, rs.SeenSeq))
		return
	}
	if now := trustedNow(rs); head.Expires != nil && now.After(*head.Expires) {
		a.refuse(head.Seq, fmt.Errorf("desired document seq %d expired at %s (now %s, the newest of the clock and the newest verified document's ts): refused, its seq is not spent", head.Seq, head.Expires.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
		return
	}
	// The seq is spent from now on, whatever becomes of the document.
	a.mu.Lock()
	a.remote.SeenSeq = head.Seq
	if head.TS != nil && head.TS.After(a.remote.TrustedTime) {
		a.remote.TrustedTime = head.TS.UTC()
	}
	rs = a.remote
	a.mu.Unlock()
	if err := a.saveRemote(rs); err != nil {
		a.internalError("state", err)
		a.refuse(head.Seq, fmt.Errorf("cannot record seq %d: %w", head.Seq, err))
		return
	}
	d, err := parseDesired(doc, cfg.Agent.NodeID)
	if err != nil {
		a.refuseSpent(head.Seq, docDigest(doc), err)
		return
	}
	a.log.Info("desired document received", "seq", d.Seq, "signers", signedBy)
	a.apply(ctx, d, doc, signers[0])
}

// trustedNow is the newest time the node can trust: its clock, or the ts
// of the newest verified document if the clock is behind it (a router
// without RTC boots in the past until NTP answers).
func trustedNow(rs remoteState) time.Time {
	now := time.Now()
	if rs.TrustedTime.After(now) {
		return rs.TrustedTime
	}
	return now
}

// docDigest names a document by the first 12 hex digits of the sha256 of
// its JSON as the state file keeps it (compacted), so that the document in
// force and the same document received again compare equal.
func docDigest(doc []byte) string {
	b, err := json.Marshal(json.RawMessage(doc))
	if err != nil {
		b = doc
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// refuse reports a refused document.
func (a *Agent) refuse(seq uint64, err error) {
	// The error may quote what a broker user sent: bounded everywhere.
	a.log.Warn("desired document refused", "seq", seq, "err", boundText(oneLine(err), maxErrorText))
	a.addError("desired", seq, "refused: "+err.Error())
	a.remoteEvent("desired_refused", "warning", seq, err.Error())
}

// refuseUnsigned reports a message refused before enough trusted
// signatures verified: anyone on the broker can send those, as fast as
// the broker carries them, so they are reported (log, error, event) the
// first time and then at most once a minute, with the count.
func (a *Agent) refuseUnsigned(err error) {
	// One entry for them all: a flood of them must not push the other
	// errors (a sliver's, a policy's) out of the state report.
	a.mu.Lock()
	a.errs = dropErrors(a.errs, func(o *wire.ErrorEntry) bool { return o.Kind == wire.KindDocument && o.Seq == 0 })
	a.mu.Unlock()
	n, ok := a.unsigned.add(time.Now())
	if !ok {
		// The newest refusal still replaces the error entry, without a
		// log line or an event of its own.
		a.addError("desired", 0, "refused: "+err.Error())
		return
	}
	if n > 1 {
		err = fmt.Errorf("%w (and %d more unsigned or oversized messages refused since the last report)", err, n-1)
	}
	a.refuse(0, err)
}

// refuseSpent reports a refused document whose seq is spent, and
// remembers it (remoteState.Refused).
func (a *Agent) refuseSpent(seq uint64, digest string, err error) {
	a.refuse(seq, err)
	a.rememberRefused(seq, digest, "refused: "+err.Error())
}

// rememberRefused records the document seq (docDigest digest) that did
// not apply and the message of its error entry.
func (a *Agent) rememberRefused(seq uint64, digest, reason string) {
	a.mu.Lock()
	a.remote.Refused = &refusedDoc{Seq: seq, Digest: digest, Reason: reason}
	rs := a.remote
	a.mu.Unlock()
	if err := a.saveRemote(rs); err != nil {
		a.internalError("state", err)
	}
}

// documentApplied reports a document that applied: the desired_applied
// event lists what it changed, and the errors it resolves clear (every
// earlier document's: refusals, rollbacks, parts left out).
func (a *Agent) documentApplied(seq uint64, plan *applyPlan, undo *undoLog) {
	settings, policies, slivers := []string{}, []string{}, []string{}
	for i, ch := range plan.settings {
		u := undo.UCI[i]
		if u.Had != ch.value.Delete && (!u.Had || u.List == ch.value.List && slices.Equal(u.Values, ch.value.Values)) {
			continue // as it was
		}
		settings = append(settings, ch.section+"."+ch.option)
	}
	for _, f := range undo.Files {
		policies = append(policies, f.Name)
	}
	for i, spec := range plan.slivers {
		if old := undo.Slivers[i].Old; old == nil || !reflect.DeepEqual(*old, spec) {
			slivers = append(slivers, spec.Name)
		}
	}
	removed := append([]string{}, plan.remove...)
	msg := "applied"
	for i, names := range [][]string{settings, policies, slivers, removed} {
		if len(names) > 0 {
			msg += "; " + [...]string{"settings ", "policies ", "slivers ", "slivers removed "}[i] + strings.Join(names, ", ")
		}
	}
	if msg == "applied" {
		msg = "applied; nothing to change"
	}
	a.clearErrors(func(e *wire.ErrorEntry) bool {
		return e.Kind == wire.KindDocument || e.Seq > 0 && e.Seq < seq
	})
	a.remoteEvent("desired_applied", "info", seq, msg, "settings", settings, "policies", policies, "slivers", slivers, "slivers_removed", removed)
}

// remoteEvent publishes what became of a document on the events topic,
// with fields besides its seq (name, value, name, value...).
func (a *Agent) remoteEvent(kind, severity string, seq uint64, msg string, fields ...any) {
	if pub := a.publisher(); pub != nil {
		f := map[string]any{"seq": seq}
		for i := 0; i+1 < len(fields); i += 2 {
			f[fields[i].(string)] = fields[i+1]
		}
		e := telemetry.Event{Kind: kind, Source: "desired", Severity: severity, Message: boundText(msg, maxErrorText), Fields: f}
		if err := pub.PublishEvent(e); err != nil {
			a.log.Warn("event not published", "kind", kind, "err", err)
		}
	}
}
