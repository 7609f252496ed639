package agent

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nodekeeper/nodekeeper/policy"
	"github.com/nodekeeper/nodekeeper/wire"
)

// TestConfigGrammarClasses holds every option that takes a string from
// outside (the owner's UCI, or a document the owner lets set it) to a
// strict grammar, by class of attack. Each case is refused with the
// option named.
func TestConfigGrammarClasses(t *testing.T) {
	for _, tt := range []struct {
		class, text, want string
	}{
		// A network namespace names a file under /run/netns or a path:
		// nothing that climbs out, reads as an option or breaks a line.
		{"netns traversal", "config slivers 'slivers'\n\toption netns '../../proc/1/ns/net'\n", "option netns"},
		{"netns option", "config slivers 'slivers'\n\toption netns '--net=/proc/1/ns/net'\n", "option netns"},
		{"netns dot-dot", "config network 'network'\n\toption netns '..'\n", "option netns"},
		{"netns newline", "config network 'network'\n\toption netns 'lab\nx'\n", "option netns"},
		{"netns unclean path", "config network 'network'\n\toption netns '/run/netns/../x'\n", "option netns"},
		{"veth peer netns", "config veth 'nkv0'\n\toption peer 'nkv1'\n\toption peer_netns '../x'\n", "network namespace"},
		// A number that is no number: NaN passes f < lo, and converts to
		// whatever the CPU gives.
		{"non-finite drain_rate NaN", "config telemetry 'telemetry'\n\toption drain_rate 'NaN'\n", "option drain_rate"},
		{"non-finite drain_rate Inf", "config telemetry 'telemetry'\n\toption drain_rate '+Inf'\n", "option drain_rate"},
		{"non-finite interval", "config telemetry 'telemetry'\n\toption interval 'NaN'\n", "option interval"},
		{"non-finite intervals", "config telemetry 'telemetry'\n\tlist intervals 'wifi=NaN'\n", "option intervals"},
		{"overflowing duration", "config agent 'agent'\n\toption failure_window '1e300'\n", "option failure_window"},
		{"non-finite size", "config policy 'policy'\n\toption memory_budget 'NaN'\n", "option memory_budget"},
		{"non-finite size with unit", "config slivers 'slivers'\n\toption min_free 'NaNM'\n", "option min_free"},
		// A node id reaches topics, logs and terminals.
		{"node id control character", "config agent 'agent'\n\toption node_id 'n1\x1b[2J'\n", "option node_id"},
		{"node id carriage return", "config agent 'agent'\n\toption node_id 'n1\rx'\n", "option node_id"},
		{"node id too long", "config agent 'agent'\n\toption node_id '" + strings.Repeat("n", maxNodeID+1) + "'\n", "option node_id"},
		{"peer control character", "config remote 'remote'\n\tlist peer 'n2\x7f'\n", "option peer"},
		// Names and addresses that reach netlink, statfs, a listener and
		// the broker's CONNECT.
		{"sliver bridge", "config slivers 'slivers'\n\tlist bridge 'private=br lan'\n", "option bridge"},
		{"sliver bridge too long", "config slivers 'slivers'\n\tlist bridge 'private=" + strings.Repeat("b", 16) + "'\n", "option bridge"},
		{"filesystem path", "config telemetry 'telemetry'\n\tlist filesystems 'overlay'\n", "option filesystems"},
		{"prometheus address", "config telemetry 'telemetry'\n\toption prometheus_listen '9100'\n", "option prometheus_listen"},
		{"username control character", "config telemetry 'telemetry'\n\toption username 'u\x01'\n", "option username"},
		// Templates and unpacked archives are bounded by the owner.
		{"template size", "config slivers 'slivers'\n\toption max_template_size 'lots'\n", "option max_template_size"},
		{"unpacked size", "config slivers 'slivers'\n\toption max_unpacked_size '-1'\n", "option max_unpacked_size"},
	} {
		t.Run(tt.class, func(t *testing.T) {
			_, err := loadText(t, tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to say %q", err, tt.want)
			}
		})
	}
	// What the grammar keeps.
	for _, text := range []string{
		"config slivers 'slivers'\n\toption netns 'lab1'\n",
		"config slivers 'slivers'\n\toption netns '/proc/1/ns/net'\n",
		"config telemetry 'telemetry'\n\toption drain_rate '0.5'\n",
		"config agent 'agent'\n\toption node_id 'nk-0a1b2c3d4e5f'\n",
		"config slivers 'slivers'\n\toption max_template_size '64M'\n\toption max_unpacked_size '256M'\n",
	} {
		if _, err := loadText(t, text); err != nil {
			t.Errorf("%q: %v", text, err)
		}
	}
}

// TestPeerSetRecovers: a broker user who publishes "offline" or documents
// for made-up peers cannot fill the peer slots for good, and cannot name a
// peer outside the node id grammar.
func TestPeerSetRecovers(t *testing.T) {
	p := newPeerSet(4, func(string, map[string]any) {})
	for i := range 100 {
		p.status(fmt.Sprintf("fake%d", i), []byte("offline"))
	}
	var events []string
	p.event = func(name string, data map[string]any) { events = append(events, name+" "+data["peer"].(string)) }
	p.status("real", []byte("online"))
	if len(events) != 1 || events[0] != "peer.up real" {
		t.Errorf("after 100 fake offline peers, a real one coming up gave %q, want peer.up real", events)
	}
	for _, topic := range []string{"nk/n1\x1b[2J/document", "nk/" + strings.Repeat("n", maxNodeID+1) + "/document", "nk/n 1/document"} {
		if node, ok := peerOf("nk", topic, "document"); ok {
			t.Errorf("peerOf(%q) = %q: a name outside the node id grammar", topic, node)
		}
	}
}

// TestPublishedErrorsBounded: an envelope anyone on the broker can publish
// (unsigned, refused) with a 512 KiB unknown field used to put the whole
// field, quoted by encoding/json, into the error kept in the state report
// (16 of them, each published with every report) and into the
// desired_refused event. Every error text kept or published is bounded.
func TestPublishedErrorsBounded(t *testing.T) {
	key, _ := wire.GenerateKey()
	a := &Agent{
		cfg:     &Config{Agent: AgentConfig{NodeID: "n1"}, Remote: RemoteConfig{TrustedKeys: []wire.PublicKey{key.Public()}}},
		log:     slog.New(slog.DiscardHandler),
		store:   stateStore{t.TempDir()},
		dirty:   make(chan struct{}, 1),
		desired: make(chan envelopeMsg, 1),
	}
	huge := strings.Repeat("x", 512<<10)
	for _, payload := range []string{
		`{"` + huge + `":1}`,                        // unknown field, quoted by encoding/json
		`{"document":"` + huge + `","signature":1}`, // not base64, a wrong type
		`{"document":1e` + strings.Repeat("9", 100000) + `}`,
	} {
		a.handleDesired(context.Background(), envelopeMsg{payload: []byte(payload), size: len(payload)})
	}
	if len(a.errs) == 0 {
		t.Fatal("no error kept")
	}
	for _, e := range a.errs {
		if len(e.Message) > maxErrorText || len(e.Member) > maxMemberText {
			t.Errorf("error entry of %d bytes (member %d): %.80s...", len(e.Message), len(e.Member), e.Message)
		}
	}
	if s := boundText(strings.Repeat("é", 20), 20); len(s) > 20 || !utf8.ValidString(s) {
		t.Errorf("boundText cut a rune: %q", s)
	}
}

// TestPushNodeGrammar: `nodekeeper push NODE` names a topic level: a node
// with a separator or a wildcard would publish the document elsewhere.
func TestPushNodeGrammar(t *testing.T) {
	for _, node := range []string{"n1/x", "+", "#", "n 1", "n1\x1b", ""} {
		err := Push(context.Background(), PushOptions{Broker: "tcp://127.0.0.1:9"}, node, []byte("{}"))
		if err == nil || !strings.Contains(err.Error(), "push: node") {
			t.Errorf("push to %q: %v, want the node refused", node, err)
		}
	}
}

// TestPeerDocumentsBounded: with peers_all and max_peers 1024 (both
// settings a document may change), anyone on the broker could have the
// node keep 1024 documents of 256 KiB (256 MiB). The documents kept add
// up to at most maxPeerBytes (counted, not measured); a peer that goes
// offline frees its share.
func TestPeerDocumentsBounded(t *testing.T) {
	p := newPeerSet(1024, func(string, map[string]any) {})
	doc := []byte(`"` + strings.Repeat("x", maxPeerDocument-2) + `"`)
	for i := range 1024 {
		p.document(fmt.Sprintf("fake%d", i), doc)
	}
	total := 0
	for _, d := range p.PeerDocuments() {
		total += len(d)
	}
	if total > maxPeerBytes || p.bytes != total {
		t.Errorf("%d bytes of peer documents kept (counter %d), at most %d", total, p.bytes, maxPeerBytes)
	}
	p.status("fake0", []byte("online"))
	p.status("fake0", []byte("offline"))
	p.document("real", []byte(`{"node":"real"}`))
	if _, ok := p.PeerDocuments()["real"]; !ok {
		t.Error("a real peer's small document is not kept after a fake one went offline")
	}
}

// TestDroppedEventsLogOnce: a flood of events (a peer's status toggled by
// anyone on the broker) that finds the queue full costs one log line a
// minute, with the count, not one per event.
func TestDroppedEventsLogOnce(t *testing.T) {
	var logs strings.Builder
	a := &Agent{log: slog.New(slog.NewTextHandler(&logs, nil)), events: make(chan policy.Event, 1)}
	for range 10000 {
		a.event("peer.up", map[string]any{"peer": "fake"})
	}
	if n := strings.Count(logs.String(), "policy events dropped"); n != 1 {
		t.Errorf("%d log lines for 9999 dropped events, want 1:\n%.300s", n, logs.String())
	}
	if n, ok := a.dropped.add(time.Now().Add(2 * time.Minute)); !ok || n != 9999 {
		t.Errorf("a minute later: %d, %v; want the 9998 unlogged drops and this one", n, ok)
	}
}

// TestUnsignedFloodPaced: anyone on the broker can publish on a node's
// desired topic. 1000 unsigned messages, each different, cost one log
// line and one event (then one a minute, with the count), keep one error
// entry, and do not push the node's other errors out of its state report.
func TestUnsignedFloodPaced(t *testing.T) {
	key, _ := wire.GenerateKey()
	var logs strings.Builder
	a := &Agent{
		cfg:     &Config{Agent: AgentConfig{NodeID: "n1"}, Remote: RemoteConfig{TrustedKeys: []wire.PublicKey{key.Public()}}},
		log:     slog.New(slog.NewTextHandler(&logs, nil)),
		store:   stateStore{t.TempDir()},
		dirty:   make(chan struct{}, 1),
		desired: make(chan envelopeMsg, 1),
	}
	a.addError("sliver s1", 0, "allocate: no room")
	for i := range 1000 {
		p := fmt.Sprintf(`{"junk%d":1}`, i)
		a.handleDesired(context.Background(), envelopeMsg{payload: []byte(p), size: len(p)})
	}
	if n := strings.Count(logs.String(), "desired document refused"); n != 1 {
		t.Errorf("%d log lines for 1000 unsigned messages, want 1", n)
	}
	var docs, slivers int
	for _, e := range a.errs {
		switch e.Kind {
		case wire.KindDocument:
			docs++
		case "sliver":
			slivers++
		}
	}
	if docs != 1 || slivers != 1 {
		t.Errorf("errors %+v: want one refusal and the sliver's error kept", a.errs)
	}
}
