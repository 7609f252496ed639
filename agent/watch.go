package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nodekeeper/nodekeeper/telemetry"
	"github.com/nodekeeper/nodekeeper/wire"
)

// WatchOptions say how `nodekeeper watch` reaches the broker and what it
// shows.
type WatchOptions struct {
	Broker string // tcp://host:1883 or ssl://host:8883
	Prefix string // default "nodekeeper"
	// TLS and credentials, as in the telemetry section.
	CAFile, CertFile, KeyFile string
	Username, Password        string
	// Nodes limits the view to these node ids (all when empty).
	Nodes []string
	// Keys are the nodes' enrolled keys: a state report is believed only
	// when signed by its node's key. Nil pins each node's key on first
	// sight instead (trust on first use, for this watch).
	Keys map[string]wire.PublicKey
	// Now stamps the lines (default time.Now).
	Now func() time.Time
}

// Watch subscribes to every node under the prefix and writes one line to
// out for each thing an admin watches happen: a node going online or
// offline, a telemetry summary per sample (load, CPU, memory, links,
// slivers), each event (policy decisions, alerts, desired documents), and
// each change of a node's state report. It returns when ctx ends.
func Watch(ctx context.Context, o WatchOptions, out io.Writer) error {
	c := telemetry.DefaultConfig()
	c.Broker = o.Broker
	if o.Prefix != "" {
		c.Prefix = o.Prefix
	}
	c.CAFile, c.CertFile, c.KeyFile, c.Username, c.Password = o.CAFile, o.CertFile, o.KeyFile, o.Username, o.Password
	c.KeepAlive = 10 * time.Second
	w := NewWatchView(c.Prefix, o.Nodes, out)
	w.enrolled = o.Keys
	if o.Now != nil {
		w.now = o.Now
	}
	var id [4]byte
	rand.Read(id[:])
	return telemetry.Listen(ctx, c, "nodekeeper-watch-"+hex.EncodeToString(id[:]), c.Prefix+"/#", w.Handle)
}

// WatchView turns the messages of a prefix into the lines of `nodekeeper
// watch`. Handle is safe for concurrent use.
type WatchView struct {
	prefix string
	nodes  map[string]bool
	now    func() time.Time

	// enrolled are the nodes' keys known beforehand (nil: pin on first
	// sight).
	enrolled map[string]wire.PublicKey

	mu   sync.Mutex
	out  io.Writer
	seen map[string]*watchedNode
}

// watchedNode is what the view remembers of a node between messages.
type watchedNode struct {
	status     string
	state      string          // the last state line printed
	interfaces string          // "3/4 links up"
	slivers    string          // "1/1 slivers running"
	key        *wire.PublicKey // pinned: the key its state reports must carry
	lastTS     float64         // of the newest verified state report
}

// NewWatchView returns a view of the nodes under prefix (only those in
// nodes, when not empty) that writes to out.
func NewWatchView(prefix string, nodes []string, out io.Writer) *WatchView {
	w := &WatchView{prefix: prefix, now: time.Now, out: out, seen: map[string]*watchedNode{}}
	if len(nodes) > 0 {
		w.nodes = map[string]bool{}
		for _, n := range nodes {
			w.nodes[n] = true
		}
	}
	return w
}

// Handle takes one message (topic and payload) and writes what it shows,
// if anything. Messages it does not know (documents, desired state, other
// telemetry groups) it keeps quiet about, or uses for the next summary.
func (w *WatchView) Handle(topic string, payload []byte) {
	rest, ok := strings.CutPrefix(topic, w.prefix+"/")
	if !ok {
		return
	}
	node, sub, ok := strings.Cut(rest, "/")
	if !ok || node == "" || w.nodes != nil && !w.nodes[node] {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.seen[node]
	if n == nil {
		n = &watchedNode{}
		w.seen[node] = n
	}
	switch {
	case sub == "status":
		s := strings.TrimSpace(string(payload))
		if s != "" && s != n.status {
			n.status = s
			w.line(node, "status", s)
		}
	case sub == "telemetry/interfaces":
		var m map[string]any
		if json.Unmarshal(payload, &m) == nil {
			n.interfaces = fmt.Sprintf("links %s/%s up", jsonNum(m["up"]), jsonNum(m["count"]))
		}
	case sub == "telemetry/slivers":
		var m map[string]any
		if json.Unmarshal(payload, &m) == nil {
			n.slivers = fmt.Sprintf("slivers %s/%s running", jsonNum(m["running"]), jsonNum(m["count"]))
		}
	case sub == "telemetry/system":
		var m map[string]any
		if json.Unmarshal(payload, &m) != nil {
			return
		}
		parts := []string{"load " + jsonNum(m["load1"])}
		if v, ok := m["cpu_busy_percent"]; ok {
			parts = append(parts, "cpu "+jsonNum(v)+"%")
		}
		if v, ok := m["memory_used_percent"]; ok {
			parts = append(parts, "mem "+jsonNum(v)+"%")
		}
		for _, s := range []string{n.interfaces, n.slivers} {
			if s != "" {
				parts = append(parts, s)
			}
		}
		if v, ok := m["seq"]; ok {
			parts = append(parts, "seq "+jsonNum(v))
		}
		w.line(node, "telemetry", strings.Join(parts, "  "))
	case strings.HasPrefix(sub, "telemetry/slivers/"):
		// Per sliver: quiet. The summary counts them and the state
		// report carries their lifecycle and limits.
	case sub == "events":
		var e struct {
			Kind     string `json:"kind"`
			Source   string `json:"source"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
		}
		if json.Unmarshal(payload, &e) != nil {
			w.line(node, "event", fmt.Sprintf("(unreadable: %.60q)", payload))
			return
		}
		text := e.Kind
		if e.Source != "" {
			text += " " + e.Source
		}
		if e.Severity != "" {
			text += " [" + e.Severity + "]"
		}
		switch {
		case e.Message != "":
			text += ": " + e.Message
		case e.Kind == "policy_action":
			text += ": fired, no actions"
		}
		w.line(node, "event", text)
	case sub == "state":
		if len(payload) == 0 {
			return
		}
		var s string
		if r, err := w.verifyState(node, n, payload); err != nil {
			s = "UNVERIFIED, not believed: " + err.Error()
		} else {
			s = stateLine(*r)
		}
		if s != n.state {
			n.state = s
			w.line(node, "state", s)
		}
	}
}

// verifyState checks a node's signed state report against its enrolled
// key, or the key pinned on its first verified report (announced by a
// line). The caller holds w.mu.
func (w *WatchView) verifyState(node string, n *watchedNode, payload []byte) (*wire.StateReport, error) {
	if n.key == nil && w.enrolled != nil {
		k, ok := w.enrolled[node]
		if !ok {
			return nil, fmt.Errorf("node %s is not enrolled (no key for it)", node)
		}
		n.key = &k
	}
	var r *wire.StateReport
	var err error
	if n.key != nil {
		r, err = wire.VerifyState(*n.key, payload)
	} else {
		var k wire.PublicKey
		if r, k, err = wire.OpenState(payload); err == nil && r.Node == node {
			n.key = &k
			w.line(node, "key", "pinned on first sight: "+k.ID()+" "+k.String())
		}
	}
	if err != nil {
		return nil, err
	}
	if r.Node != node {
		return nil, fmt.Errorf("a report of node %q on %s's topic", r.Node, node)
	}
	if r.TS < n.lastTS {
		return nil, fmt.Errorf("ts %v is older than the last report's %v (replayed)", r.TS, n.lastTS)
	}
	n.lastTS = r.TS
	return r, nil
}

// stateLine sums up a state report: node state, applied document, slivers
// and the latest error.
func stateLine(r wire.StateReport) string {
	parts := []string{string(r.NodeState), fmt.Sprintf("applied seq %d", r.AppliedSeq)}
	if r.SeenSeq != r.AppliedSeq {
		parts = append(parts, fmt.Sprintf("seen %d", r.SeenSeq))
	}
	parts = append(parts, fmt.Sprintf("policies %d", r.Policies.Loaded))
	if r.Policies.Quarantined > 0 {
		parts = append(parts, fmt.Sprintf("quarantined %d", r.Policies.Quarantined))
	}
	for _, s := range r.Slivers {
		p := fmt.Sprintf("sliver %s %s", s.Name, s.State)
		if string(s.SetState) != "" {
			p += " (wants " + string(s.SetState) + ")"
		}
		if s.Limits != nil {
			if s.Limits.CPUMillicores > 0 {
				p += fmt.Sprintf(" cpu limit %dm", s.Limits.CPUMillicores)
			}
			if s.Limits.MemoryBytes > 0 {
				p += fmt.Sprintf(" mem limit %d MiB", s.Limits.MemoryBytes>>20)
			}
		}
		if s.Error != "" {
			p += ": " + s.Error
		}
		parts = append(parts, p)
	}
	if len(r.Errors) > 0 {
		e := r.Errors[len(r.Errors)-1]
		parts = append(parts, fmt.Sprintf("errors %d, last: %s", len(r.Errors), e.Message))
	}
	return strings.Join(parts, "  ")
}

func (w *WatchView) line(node, what, text string) {
	fmt.Fprintf(w.out, "%s  %-12s %-9s %s\n", w.now().Format("15:04:05"), TerminalSafe(node, 128), what, TerminalSafe(text, 2048))
}

// TerminalSafe makes text from others (anyone on the broker names a node
// by its topic, publishes an event or a status; a policy's error, a
// sliver's) fit for an admin's terminal:
// control characters (an escape sequence could rewrite the screen or the
// window title) and invalid UTF-8 become '?', and the text is cut at max
// bytes.
func TerminalSafe(s string, max int) string {
	s = boundText(s, max)
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == utf8.RuneError {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// jsonNum prints a JSON number briefly: integers as such, others with one
// decimal; "?" when absent.
func jsonNum(v any) string {
	f, ok := v.(float64)
	if !ok {
		return "?"
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprintf("%.1f", f)
}
