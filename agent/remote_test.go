package agent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/policy"
	"github.com/nodekeeper/nodekeeper/wire"
)

// TestDesiredRefused feeds envelopes to the agent's handler one after the
// other, as they arrive on the desired topic, starting from the seq a
// previous run persisted: each is refused with its reason, nothing is
// applied, and the seq a verified document spends is persisted at once.
func TestDesiredRefused(t *testing.T) {
	key, _ := wire.GenerateKey()
	other, _ := wire.GenerateKey()
	dir := t.TempDir()
	// What a previous run left: seq 7 seen, 6 applied.
	if err := (stateStore{dir}).save(remoteState{AppliedSeq: 6, SeenSeq: 7}); err != nil {
		t.Fatal(err)
	}
	a := &Agent{
		cfg:     &Config{Agent: AgentConfig{NodeID: "n1"}, Remote: RemoteConfig{TrustedKeys: []wire.PublicKey{key.Public()}}},
		log:     slog.New(slog.DiscardHandler),
		store:   stateStore{dir},
		dirty:   make(chan struct{}, 1),
		events:  make(chan policy.Event, 8),
		desired: make(chan envelopeMsg, 1),
	}
	var err error
	if a.remote, err = a.store.load(); err != nil {
		t.Fatal(err)
	}
	doc := func(node string, seq int) []byte {
		b, _ := json.Marshal(map[string]any{"node": node, "seq": seq})
		return b
	}
	seal := func(k wire.SecretKey, b []byte) []byte { e, _ := wire.Seal(k, b); return e }
	tampered, _ := json.Marshal(wire.Envelope{Document: doc("n1", 9), Signature: string(wire.Sign(key, doc("n1", 10)))})
	tests := []struct {
		name     string
		wire     []byte
		size     int // of an oversized envelope, which arrives without its bytes
		want     string
		seenSeq  uint64
		wantSeen uint64
	}{
		{"unsigned", []byte(`{"document":"` + b64(doc("n1", 8)) + `"}`), 0, "unsigned documents are refused", 0, 7},
		{"untrusted key", seal(other, doc("n1", 8)), 0, "not trusted", 0, 7},
		{"tampered", tampered, 0, "signature does not verify", 0, 7},
		{"not an envelope", []byte(`{"doc":1}`), 0, "unknown field", 0, 7},
		{"oversized", nil, wire.MaxEnvelopeBytes + 1, "exceeds the 1048576-byte limit", 0, 7},
		{"older than seen", seal(key, doc("n1", 5)), 0, "seq 5 is not above the last seen 7", 5, 7},
		{"replayed", seal(key, doc("n1", 7)), 0, "seq 7 is not above the last seen 7", 7, 7},
		{"for another node", seal(key, doc("n2", 8)), 0, `node "n2", but this node is "n1"`, 8, 7},
		{"another node's last seq", seal(key, []byte(`{"node":"n2","seq":18446744073709551615}`)), 0, `node "n2", but this node is "n1"`, math.MaxUint64, 7},
		{"malformed", seal(key, []byte(`{"node":"n1","seq":9,"slivers":"many"}`)), 0, "desired document", 9, 9},
		{"replayed after", seal(key, doc("n1", 9)), 0, "seq 9 is not above the last seen 9", 9, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size := tt.size
			if size == 0 {
				size = len(tt.wire)
			}
			a.mu.Lock()
			a.errs = nil
			a.mu.Unlock()
			a.handleDesired(context.Background(), envelopeMsg{payload: tt.wire, size: size})
			r := a.errs
			if len(r) != 1 || !strings.Contains(r[0].Message, tt.want) || r[0].Seq != tt.seenSeq || r[0].Member != "desired" {
				t.Fatalf("errors %+v, want one about seq %d saying %q", r, tt.seenSeq, tt.want)
			}
			// Persisted: what a restarted agent would start from.
			st, err := a.store.load()
			if err != nil || st.SeenSeq != tt.wantSeen || st.AppliedSeq != 6 {
				t.Errorf("persisted state %+v, %v; want seen %d, applied 6", st, err, tt.wantSeen)
			}
			if p, _ := a.store.pending(); p != nil {
				t.Errorf("an undo log was written: %+v", p)
			}
		})
	}
}

// The same envelope again (a retained message after a reconnection) is
// handled once; a different one, or the first again after it, is new.
func TestEnvelopeFilter(t *testing.T) {
	var f envelopeFilter
	tests := []struct {
		m    envelopeMsg
		want bool
	}{
		{envelopeMsg{payload: []byte("a"), size: 1}, true},
		{envelopeMsg{payload: []byte("a"), size: 1}, false},
		{envelopeMsg{payload: []byte("b"), size: 1}, true},
		{envelopeMsg{size: 5 << 20}, true},
		{envelopeMsg{size: 5 << 20}, false},
		{envelopeMsg{size: 6 << 20}, true},
		{envelopeMsg{payload: []byte("a"), size: 1}, true},
	}
	for i, tt := range tests {
		if got := f.fresh(tt.m); got != tt.want {
			t.Errorf("envelope %d: fresh %v, want %v", i, got, tt.want)
		}
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// What the seq and the clock let through: the document in force coming
// again (the retained message after a restart) is no news, quietly; a
// different document with its seq is refused naming both; a document with
// too few signatures (remote.threshold) or past its expires (judged by the
// newest of the clock and the newest verified document's ts) is refused
// without spending its seq.
func TestDesiredSeqAndTime(t *testing.T) {
	k1, _ := wire.GenerateKey()
	k2, _ := wire.GenerateKey()
	both := []wire.SecretKey{k1, k2}
	applied := []byte("{\"node\":\"n1\",\n \"seq\":6}\n")
	seal := func(keys []wire.SecretKey, doc string) []byte { e, _ := wire.SealAll(keys, []byte(doc)); return e }
	tests := []struct {
		name        string
		trustedTime time.Time
		env         []byte
		want        string // "" for quiet: no error, no warning
		wantSeen    uint64
		wantTrusted time.Time
	}{
		{"the document in force again", time.Time{}, seal(both, string(applied)), "", 7, time.Time{}},
		{"the same document, spaced differently", time.Time{}, seal(both, `{"node":"n1","seq":6}`), "", 7, time.Time{}},
		{"a different document with the applied seq", time.Time{}, seal(both, `{"node":"n1","seq":6,"node_state":"safe"}`),
			"desired document seq 6 (sha256 " + docDigest([]byte(`{"node":"n1","seq":6,"node_state":"safe"}`)) + ") is not the document applied with seq 6 (sha256 " + docDigest(applied) + ")", 7, time.Time{}},
		{"below the threshold", time.Time{}, seal(both[:1], `{"node":"n1","seq":8}`), "the threshold is 2", 7, time.Time{}},
		{"expired by the clock", time.Time{}, seal(both, `{"node":"n1","seq":8,"expires":"2001-01-01T00:00:00Z"}`), "expired at 2001-01-01T00:00:00Z", 7, time.Time{}},
		{"expired by a newer document's ts", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), seal(both, `{"node":"n1","seq":8,"expires":"2099-01-01T00:00:00Z"}`),
			"(now 2100-01-01T00:00:00Z, the newest of the clock", 7, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"a verified ts moves the trusted time", time.Time{}, seal(both, `{"node":"n1","seq":8,"ts":"2101-01-01T00:00:00Z","slivers":"many"}`),
			"desired document", 8, time.Date(2101, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var logs strings.Builder
			a := &Agent{
				cfg: &Config{Agent: AgentConfig{NodeID: "n1"}, Remote: RemoteConfig{Threshold: 2,
					TrustedKeys: []wire.PublicKey{k1.Public(), k2.Public()}}},
				log:    slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
				store:  stateStore{dir},
				dirty:  make(chan struct{}, 1),
				events: make(chan policy.Event, 8),
				remote: remoteState{AppliedSeq: 6, SeenSeq: 7, Document: applied, TrustedTime: tt.trustedTime},
			}
			if err := a.store.save(a.remote); err != nil {
				t.Fatal(err)
			}
			// As a restarted agent has it: the document as the state file kept it.
			var err error
			if a.remote, err = a.store.load(); err != nil {
				t.Fatal(err)
			}
			a.handleDesired(context.Background(), envelopeMsg{payload: tt.env, size: len(tt.env)})
			switch {
			case tt.want == "" && (len(a.errs) != 0 || logs.Len() != 0):
				t.Fatalf("not quiet: errors %+v, log %s", a.errs, logs.String())
			case tt.want != "" && (len(a.errs) != 1 || !strings.Contains(a.errs[0].Message, tt.want)):
				t.Fatalf("errors %+v, want one saying %q", a.errs, tt.want)
			}
			st, err := a.store.load()
			if err != nil || st.SeenSeq != tt.wantSeen || st.AppliedSeq != 6 || !st.TrustedTime.Equal(tt.wantTrusted) {
				t.Errorf("persisted %+v, %v; want seen %d, applied 6, trusted time %v", st, err, tt.wantSeen, tt.wantTrusted)
			}
		})
	}
}

// TestRefusedDocumentAgain: a document that spent its seq and was refused
// comes again (the retained message after a restart, or sealed anew): no
// news, quietly (no warning, so no desired_refused event), and the state
// report says again why it was refused, not "replayed". A different
// document with that seq is refused loudly.
func TestRefusedDocumentAgain(t *testing.T) {
	k1, _ := wire.GenerateKey()
	k2, _ := wire.GenerateKey()
	bad := `{"node":"n1","seq":8,"slivers":"many"}`
	seal := func(k wire.SecretKey, doc string) []byte { e, _ := wire.Seal(k, []byte(doc)); return e }
	dir := t.TempDir()
	var logs strings.Builder
	// start is the agent as it starts, from the state file.
	start := func() *Agent {
		a := &Agent{
			cfg: &Config{Agent: AgentConfig{NodeID: "n1"}, Remote: RemoteConfig{Threshold: 1,
				TrustedKeys: []wire.PublicKey{k1.Public(), k2.Public()}}},
			log:    slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
			store:  stateStore{dir},
			dirty:  make(chan struct{}, 1),
			events: make(chan policy.Event, 8),
		}
		var err error
		if a.remote, err = a.store.load(); err != nil {
			t.Fatal(err)
		}
		return a
	}
	first := start()
	first.remote = remoteState{AppliedSeq: 6, SeenSeq: 7}
	first.handleDesired(context.Background(), envelopeMsg{payload: seal(k1, bad), size: 1})
	if len(first.errs) != 1 || !strings.Contains(logs.String(), "refused") {
		t.Fatalf("the bad document: errors %+v, log %s", first.errs, logs.String())
	}
	why := first.errs[0].Message
	steps := []struct {
		name  string
		env   []byte
		loud  bool   // a warning
		error string // the one error entry's message
	}{
		{"the retained document after a restart", seal(k1, bad), false, why},
		{"the same document sealed by another key", seal(k2, bad), false, why},
		{"a different document with the refused seq", seal(k1, `{"node":"n1","seq":8}`), true, "not above the last seen 8"},
	}
	for _, st := range steps {
		logs.Reset()
		a := start()
		a.handleDesired(context.Background(), envelopeMsg{payload: st.env, size: len(st.env)})
		if loud := logs.Len() != 0; loud != st.loud {
			t.Errorf("%s: warning %v, want %v: %s", st.name, loud, st.loud, logs.String())
		}
		if len(a.errs) != 1 || !strings.Contains(a.errs[0].Message, st.error) || a.errs[0].Seq != 8 {
			t.Errorf("%s: errors %+v, want one of seq 8 saying %q", st.name, a.errs, st.error)
		}
	}
}
