package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/rollout"
)

// PageSize is how many rows the nodes table shows a page by default
// (?per=N asks for up to MaxPageSize): 500 rows load in well under a
// second on a phone-class machine; sorting and filtering work on the
// whole fleet, on the server.
const (
	PageSize    = 500
	MaxPageSize = 2000
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"spark": sparkline,
	"chart": chart,
	"num":   num,
	"pct": func(v float64) string {
		return fmt.Sprintf("%.0f%%", v)
	},
	"bytes": humanBytes,
	"dur":   humanDuration,
	"clock": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.Local().Format("15:04:05")
	},
	"stamp": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"join": strings.Join,
	"pretty": func(v any) string {
		b, _ := json.MarshalIndent(v, "", "  ")
		return string(b)
	},
	"q":       url.QueryEscape,
	"p":       url.PathEscape,
	"labels":  labelList,
	"sevIcon": sevIcon,
	"outIcon": outcomeIcon,
	"add":     func(a, b int) int { return a + b },
	"mapsvg":  mapSVG,
	"list":    func(s ...string) []string { return s },
	"ints":    func(n ...int) []int { return n },
	"plural": func(n int, word string) string {
		if n == 1 {
			return fmt.Sprintf("1 %s", word)
		}
		return fmt.Sprintf("%d %ss", n, word)
	},
	"counts": func(m map[string]int) string {
		var out []string
		for _, k := range sortedKeys(m) {
			out = append(out, fmt.Sprintf("%d %s", m[k], k))
		}
		if len(out) == 0 {
			return "none"
		}
		return strings.Join(out, ", ")
	},
	"rowdata": func(base string, r NodeRow, hasPlan bool) rowData { return rowData{base, r, hasPlan} },
	"evdata":  func(base string, e Event) evData { return evData{base, e} },
	"pct100":  func(f float64) float64 { return f * 100 },
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// evData is what the events table's row template gets.
type evData struct {
	Base string
	E    Event
}

func humanBytes(v int64) string {
	f := float64(v)
	switch {
	case f >= 1<<30:
		return fmt.Sprintf("%.1f GiB", f/(1<<30))
	case f >= 1<<20:
		return fmt.Sprintf("%.1f MiB", f/(1<<20))
	case f >= 1<<10:
		return fmt.Sprintf("%.0f KiB", f/(1<<10))
	}
	return fmt.Sprintf("%d B", v)
}

func humanDuration(secs float64) string {
	d := time.Duration(secs) * time.Second
	switch {
	case secs <= 0:
		return "—"
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd %dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh %dm", d/time.Hour, d%time.Hour/time.Minute)
	}
	return fmt.Sprintf("%dm %ds", d/time.Minute, d%time.Minute/time.Second)
}

func labelList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// sevIcon is the severity's sign: never colour alone.
func sevIcon(sev string) string {
	switch sev {
	case "critical":
		return "⛔"
	case "warning":
		return "⚠"
	}
	return "ℹ"
}

func outcomeIcon(o string) string {
	switch o {
	case "applied", "done":
		return "✔"
	case "failed", "stopped":
		return "✖"
	case "rolled_back":
		return "↩"
	case "refused":
		return "⊘"
	case "pending", "pushed", "running":
		return "…"
	}
	return "•"
}

// filterOf reads the nodes table's filter from the query, each value
// checked (a value outside its grammar is ignored).
func filterOf(q url.Values) Filter {
	word := func(k string, n int) string {
		v := q.Get(k)
		if len(v) > n || strings.ContainsAny(v, "\x00\r\n") {
			return ""
		}
		return v
	}
	f := Filter{Query: word("q", 128), Status: word("status", 16), State: word("state", 32), Group: word("group", 64),
		Label: word("label", 200), Problem: q.Get("problem") == "1", Desc: q.Get("dir") == "desc"}
	if s := q.Get("sort"); slices.Contains(Columns, s) {
		f.Sort = s
	}
	return f
}

// query writes the filter back as a query (for links and the stream).
func (f Filter) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("q", f.Query)
	set("status", f.Status)
	set("state", f.State)
	set("group", f.Group)
	set("label", f.Label)
	if f.Problem {
		q.Set("problem", "1")
	}
	set("sort", f.Sort)
	if f.Desc {
		q.Set("dir", "desc")
	}
	return q
}

// pageOf returns the ids on page (from 1) of per rows through f, and
// whether the rows fit one page.
func (m *Model) pageOf(f Filter, page, per int) (map[string]bool, bool) {
	rows := m.Rows(f)
	lo := min(max(page-1, 0)*per, len(rows))
	ids := make(map[string]bool, per)
	for _, r := range rows[lo:min(len(rows), lo+per)] {
		ids[r.ID] = true
	}
	return ids, len(rows) <= per
}

// Column is a sortable header of the nodes table.
type Column struct {
	Key, Label string
	Href       string
	// Sort is the header's aria-sort: ascending, descending or "".
	Sort string
}

type nodesData struct {
	Filter        Filter
	Rows          []NodeRow
	Total, Shown  int
	Page, Pages   int
	Per           int
	Prev, Next    string
	Columns       []Column
	HasPlan       bool
	Groups        []string
	States        []string
	FilterApplied bool
}

func (s *Server) nodesPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := filterOf(q)
	rows := s.m.Rows(f)
	d := nodesData{Filter: f, Total: len(rows), Page: 1, Per: PageSize}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 {
		d.Page = n
	}
	if n, err := strconv.Atoi(q.Get("per")); err == nil && n >= 10 && n <= MaxPageSize {
		d.Per = n
	}
	d.Pages = max(1, (len(rows)+d.Per-1)/d.Per)
	d.Page = min(d.Page, d.Pages)
	lo := (d.Page - 1) * d.Per
	d.Rows = rows[lo:min(len(rows), lo+d.Per)]
	s.m.WithHistory(d.Rows)
	d.Shown = len(d.Rows)
	base := s.base(r)
	link := func(mod func(url.Values)) string {
		v := f.query()
		if d.Per != PageSize {
			v.Set("per", strconv.Itoa(d.Per))
		}
		mod(v)
		if len(v) == 0 {
			return base + "/"
		}
		return base + "/?" + v.Encode()
	}
	if d.Page > 1 {
		d.Prev = link(func(v url.Values) { v.Set("page", strconv.Itoa(d.Page-1)) })
	}
	if d.Page < d.Pages {
		d.Next = link(func(v url.Values) { v.Set("page", strconv.Itoa(d.Page+1)) })
	}
	labels := map[string]string{"node": "Node", "status": "Status", "state": "State", "load": "Load", "memory": "Memory",
		"flash": "Flash", "uptime": "Uptime", "slivers": "Slivers", "seq": "Applied seq", "errors": "Errors"}
	for _, c := range Columns {
		col := Column{Key: c, Label: labels[c]}
		desc := false
		if f.Sort == c || f.Sort == "" && c == "node" {
			col.Sort = "ascending"
			if f.Desc {
				col.Sort = "descending"
			} else {
				desc = true
			}
		}
		col.Href = link(func(v url.Values) {
			v.Set("sort", c)
			v.Del("dir")
			if desc {
				v.Set("dir", "desc")
			}
		})
		d.Columns = append(d.Columns, col)
	}
	sum := s.m.Summary()
	d.HasPlan, d.Groups, d.States = sum.Plan, sum.Groups, sum.States
	d.FilterApplied = len(f.query()) > 0 && (f.Query != "" || f.Status != "" || f.State != "" || f.Group != "" || f.Label != "" || f.Problem)
	sq := f.query()
	sq.Set("page", strconv.Itoa(d.Page))
	sq.Set("per", strconv.Itoa(d.Per))
	s.render(w, r, "nodes", http.StatusOK, page{Title: "Nodes", Data: d, Stream: "view=nodes&" + sq.Encode()})
}

func (s *Server) nodePage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !broker.ValidTopicLevel(id) || len(id) > 128 {
		s.notFound(w, r, "no such node")
		return
	}
	v, ok := s.m.Node(id)
	if !ok {
		s.notFound(w, r, "the view knows no node "+id)
		return
	}
	var evs []Event
	all := s.m.Events(0)
	for i := len(all) - 1; i >= 0 && len(evs) < 20; i-- {
		if all[i].Node == id {
			evs = append(evs, all[i])
		}
	}
	s.render(w, r, "node", http.StatusOK, page{Title: "Node " + id, Data: struct {
		NodeView
		Events []Event
	}{v, evs}, Stream: "view=node&id=" + url.QueryEscape(id)})
}

func (s *Server) slicesPage(w http.ResponseWriter, r *http.Request) {
	all := s.m.Slices()
	name := r.PathValue("name")
	title := "Slices"
	if name != "" {
		title = "Slice " + name
		var one []SliceView
		for _, sl := range all {
			if sl.Slice == name {
				one = append(one, sl)
			}
		}
		if len(one) == 0 {
			s.notFound(w, r, "no node reports a sliver of slice "+name)
			return
		}
		all = one
	}
	s.render(w, r, "slices", http.StatusOK, page{Title: title, Data: struct {
		Slices []SliceView
		One    bool
	}{all, name != ""}, Stream: "view=slices"})
}

// eventFilter selects events.
type eventFilter struct {
	Kind, Severity, Node string
}

func (f eventFilter) match(e *Event) bool {
	return (f.Kind == "" || e.Kind == f.Kind) && (f.Severity == "" || e.Severity == f.Severity) &&
		(f.Node == "" || strings.Contains(e.Node, f.Node))
}

func (s *Server) eventsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := eventFilter{Kind: q.Get("kind"), Severity: q.Get("severity"), Node: q.Get("node")}
	if !kindRe.MatchString(f.Kind) {
		f.Kind = ""
	}
	if !severities[f.Severity] {
		f.Severity = ""
	}
	if len(f.Node) > 128 {
		f.Node = ""
	}
	all := s.m.Events(0)
	kinds := map[string]bool{}
	var evs []Event
	for i := len(all) - 1; i >= 0; i-- {
		kinds[all[i].Kind] = true
		if f.match(&all[i]) && len(evs) < 500 {
			evs = append(evs, all[i])
		}
	}
	var last uint64
	if len(all) > 0 {
		last = all[len(all)-1].Seq
	}
	kindList := []string{"alert", "policy_action", "policy_error", KindDecision, KindState, KindOffline, KindOnline, KindError, KindApplied, KindRollout, KindRemoved}
	for k := range kinds {
		if !slices.Contains(kindList, k) {
			kindList = append(kindList, k)
		}
	}
	sort.Strings(kindList[10:])
	s.render(w, r, "events", http.StatusOK, page{Title: "Events", Data: struct {
		Filter eventFilter
		Events []Event
		Kinds  []string
		Kept   int
	}{f, evs, kindList, maxEvents}, Stream: fmt.Sprintf("view=events&after=%d&kind=%s&severity=%s&node=%s", last, url.QueryEscape(f.Kind), url.QueryEscape(f.Severity), url.QueryEscape(f.Node))})
}

// ownRollout is the rollout this server started, as its page shows it.
type ownRollout struct {
	Who     string
	Started time.Time
	Running bool
	Err     string
	Output  []string
}

func (s *Server) rolloutsPage(w http.ResponseWriter, r *http.Request) {
	rec, recErr := s.m.Rollout()
	type nodeOut struct {
		Node string
		Out  any
	}
	var waves [][]nodeOut
	if rec != nil {
		for _, wv := range rec.Waves {
			var ns []nodeOut
			for _, id := range wv.Nodes {
				ns = append(ns, nodeOut{id, rec.Nodes[id]})
			}
			waves = append(waves, ns)
		}
	}
	var own *ownRollout
	if s.o.Actions != nil {
		if ro := s.o.Actions.Rollout(); ro != nil {
			own = &ownRollout{Who: ro.Who, Started: ro.Started, Running: ro.Running(), Output: ro.Output()}
			if !own.Running {
				if _, err := ro.Result(); err != nil {
					own.Err = err.Error()
				}
			}
		}
	}
	s.render(w, r, "rollouts", http.StatusOK, page{Title: "Rollouts", Data: struct {
		Rec     any
		Err     string
		Waves   [][]nodeOut
		Own     *ownRollout
		HasDir  bool
		Running bool
	}{rec, recErr, waves, own, s.o.FleetDir != "", rec != nil && rec.State == rollout.Running}, Stream: "view=rollouts"})
}

func (s *Server) mapPage(w http.ResponseWriter, r *http.Request) {
	nodes, links, unplaced := s.m.Map()
	s.render(w, r, "map", http.StatusOK, page{Title: "Map", Data: mapData{Nodes: nodes, Links: links, Unplaced: unplaced, TileURL: s.o.TileURL, Base: s.base(r)},
		Stream: "view=map"})
}

// apiNodes is the nodes table as JSON (the benchmark and scripts).
func (s *Server) apiNodes(w http.ResponseWriter, r *http.Request) {
	rows := s.m.Rows(filterOf(r.URL.Query()))
	type row struct {
		Node       string   `json:"node"`
		Status     string   `json:"status"`
		NodeState  string   `json:"node_state,omitempty"`
		Load       float64  `json:"load"`
		Memory     float64  `json:"memory_used_percent"`
		Flash      float64  `json:"flash_used_percent"`
		Running    int      `json:"slivers_running"`
		Slivers    int      `json:"slivers"`
		AppliedSeq uint64   `json:"applied_seq"`
		Drift      []string `json:"drift,omitempty"`
		Errors     int      `json:"errors"`
	}
	out := make([]row, 0, len(rows))
	for _, r := range rows {
		out = append(out, row{r.ID, r.Status, r.NodeState, r.Load, r.Memory, r.Flash, r.Running, r.Slivers, r.AppliedSeq, r.Drift, r.Errors})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}
