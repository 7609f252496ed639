package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
)

// maxStreams bounds the live connections (each costs a goroutine and a
// render a tick).
const maxStreams = 256

// stream sends a page its live updates as server-sent events, at most one
// batch a tick:
//   - rows (the nodes table): [{"id", "html"}] rows to replace, and gone,
//     the ids that no longer pass the table's filter;
//   - events (the events page): [{"seq", "kind", "severity", "node", "html"}];
//   - changed (every other page): its content changed, fetch it again;
//   - summary (every page): the header's counts.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	if n := s.streams.Add(1); n > maxStreams {
		s.streams.Add(-1)
		http.Error(w, "too many live views", http.StatusServiceUnavailable)
		return
	}
	defer s.streams.Add(-1)
	q := r.URL.Query()
	view := q.Get("view")
	f := filterOf(q)
	nodeID := q.Get("id")
	if view == "node" && (!broker.ValidTopicLevel(nodeID) || len(nodeID) > 128) {
		http.Error(w, "bad node id", http.StatusBadRequest)
		return
	}
	evFilter := eventFilter{Kind: q.Get("kind"), Severity: q.Get("severity"), Node: q.Get("node")}
	after, _ := strconv.ParseUint(q.Get("after"), 10, 64)
	// The nodes table's page: only its rows are sent (a table of one page
	// also gets new nodes). Which nodes are on it is looked at again now
	// and then, as sorting by a number moves them.
	pageN, _ := strconv.Atoi(q.Get("page"))
	per, _ := strconv.Atoi(q.Get("per"))
	if per < 10 || per > MaxPageSize {
		per = PageSize
	}
	var visible map[string]bool
	onePage := true
	var visibleAt time.Time
	base := s.base(r)
	// The version before the answer starts: whatever changes once the
	// page has its answer is sent.
	ver := s.m.Version()
	// A reconnecting page says what it saw last: it gets what it missed.
	if v, err := strconv.ParseUint(r.Header.Get("Last-Event-ID"), 10, 64); err == nil && v < ver {
		ver = v
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 3000\n\n")
	fl.Flush()

	tick := time.NewTicker(s.o.Tick)
	defer tick.Stop()
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	var sent Summary
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			fl.Flush()
			continue
		case <-tick.C:
		}
		cur := s.m.Version()
		if cur == ver {
			continue
		}
		var buf bytes.Buffer
		switch view {
		case "nodes":
			if time.Since(visibleAt) > 10*time.Second {
				visible, onePage = s.m.pageOf(f, max(pageN, 1), per)
				visibleAt = time.Now()
			}
			rows, gone := s.m.ChangedRows(f, ver)
			if !onePage {
				kept := rows[:0]
				for _, r := range rows {
					if visible[r.ID] {
						kept = append(kept, r)
					}
				}
				rows = kept
			}
			if len(rows)+len(gone) > 0 {
				type out struct {
					ID   string `json:"id"`
					HTML string `json:"html"`
				}
				msg := struct {
					Rows []out    `json:"rows"`
					Gone []string `json:"gone,omitempty"`
				}{Gone: gone}
				var rb bytes.Buffer
				hasPlan := s.m.Summary().Plan
				for i := range rows {
					rb.Reset()
					if err := s.pages["nodes"].ExecuteTemplate(&rb, "row", rowData{Base: base, Row: rows[i], HasPlan: hasPlan}); err != nil {
						s.o.Logger.Error("web: row", "err", err)
						continue
					}
					msg.Rows = append(msg.Rows, out{rows[i].ID, rb.String()})
				}
				writeEvent(&buf, "rows", msg)
			}
		case "node":
			if s.m.NodeVersion(nodeID) > ver {
				writeEvent(&buf, "changed", nodeID)
			}
		case "rollouts":
			// The record, or (with admin actions) this server's rollout,
			// whose output grows between records.
			if s.m.RolloutVersion() > ver || s.o.Actions != nil && s.o.Actions.Rollout() != nil && s.o.Actions.Rollout().Running() {
				writeEvent(&buf, "changed", view)
			}
		case "events":
			evs := s.m.Events(after)
			type out struct {
				Seq      uint64 `json:"seq"`
				Kind     string `json:"kind"`
				Severity string `json:"severity"`
				Node     string `json:"node"`
				HTML     string `json:"html"`
			}
			var list []out
			var rb bytes.Buffer
			for _, e := range evs {
				after = e.Seq
				if !evFilter.match(&e) {
					continue
				}
				rb.Reset()
				if err := s.pages["events"].ExecuteTemplate(&rb, "event", evData{base, e}); err == nil {
					list = append(list, out{e.Seq, e.Kind, e.Severity, e.Node, rb.String()})
				}
			}
			if len(list) > 0 {
				writeEvent(&buf, "events", list)
			}
		default:
			writeEvent(&buf, "changed", view)
		}
		if sum := s.m.Summary(); sum.Nodes != sent.Nodes || sum.Online != sent.Online || sum.Offline != sent.Offline {
			sent = sum
			writeEvent(&buf, "summary", map[string]int{"nodes": sum.Nodes, "online": sum.Online, "offline": sum.Offline})
		}
		ver = cur
		fmt.Fprintf(&buf, "id: %d\n\n", ver)
		if _, err := w.Write(buf.Bytes()); err != nil {
			return
		}
		fl.Flush()
	}
}

// rowData is what the nodes table's row template gets.
type rowData struct {
	Base    string
	Row     NodeRow
	HasPlan bool
}

func writeEvent(buf *bytes.Buffer, name string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	fmt.Fprintf(buf, "event: %s\ndata: %s\n\n", name, b)
}
