package agent

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMergeJSON(t *testing.T) {
	var dst, src map[string]any
	json.Unmarshal([]byte(`{"system":{"load":[0.1,0.2,0.3],"uptime_seconds":5},"node":"n1"}`), &dst)
	json.Unmarshal([]byte(`{"system":{"load":[9,8,7]},"extra":{"a":1}}`), &src)
	mergeJSON(dst, src)
	b, _ := json.Marshal(dst)
	if string(b) != `{"extra":{"a":1},"node":"n1","system":{"load":[9,8,7],"uptime_seconds":5}}` {
		t.Errorf("merged: %s", b)
	}
}

// TestOverrideFile: an override in force is read when it changes and
// said loudly (WARN at the first read and hourly, not per read, and in the
// state report); a malformed one is refused naming file and line.
func TestOverrideFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "override.json")
	var logs bytes.Buffer
	changes := 0
	o := overrideFile{path: path, log: slog.New(slog.NewTextHandler(&logs, nil)), changed: func() { changes++ }}
	tests := []struct {
		name    string
		write   string // "" removes the file; "DIR" makes it a directory
		reads   int
		active  bool
		err     string // in the state's error
		warns   int    // WARN lines logged by the reads
		changes int
	}{
		{"none", "", 3, false, "", 0, 0},
		{"in force", `{"system":{"load":[9]}}`, 3, true, "", 1, 1},
		{"changed", `{"a":1}`, 2, true, "", 1, 1},
		{"malformed", "{\n  \"a\": 1,\n  oops\n}", 3, false, path + ":3: invalid character 'o'", 1, 1},
		{"an empty object", "{}\n", 1, true, "", 1, 1},
		{"an array", "\n[1]", 1, false, path + ":2:", 1, 1},
		{"gone", "", 2, false, "", 1, 1},
		{"a directory", "DIR", 1, false, "not a regular file", 1, 1},
	}
	for i, tt := range tests {
		os.RemoveAll(path)
		switch tt.write {
		case "":
		case "DIR":
			os.Mkdir(path, 0o755)
		default:
			os.WriteFile(path, []byte(tt.write), 0o600)
		}
		os.Chtimes(path, time.Now(), time.Unix(int64(1000+i), 0))
		logs.Reset()
		changes = 0
		var m map[string]any
		for range tt.reads {
			m, _ = o.get()
		}
		st := o.state()
		if (m != nil) != tt.active || (st != nil && st.Active) != tt.active {
			t.Errorf("%s: object %v, state %+v; want active %v", tt.name, m, st, tt.active)
		}
		if tt.err != "" && (st == nil || !strings.Contains(st.Error, tt.err)) {
			t.Errorf("%s: state %+v, want the error %q", tt.name, st, tt.err)
		}
		if n := strings.Count(logs.String(), "level=WARN"); n != tt.warns {
			t.Errorf("%s: %d WARN lines, want %d:\n%s", tt.name, n, tt.warns, logs.String())
		}
		if changes != tt.changes {
			t.Errorf("%s: %d changes signalled, want %d", tt.name, changes, tt.changes)
		}
	}
	// Still in force an hour later: said again.
	os.RemoveAll(path)
	os.WriteFile(path, []byte(`{"a":1}`), 0o600)
	o.get()
	logs.Reset()
	o.warned = o.warned.Add(-time.Hour)
	o.get()
	o.get()
	if n := strings.Count(logs.String(), "override file in force"); n != 1 {
		t.Errorf("an hour later: %d WARN lines, want 1:\n%s", n, logs.String())
	}
}

func TestPeers(t *testing.T) {
	var events []string
	p := newPeerSet(2, func(name string, data map[string]any) { events = append(events, name+" "+data["peer"].(string)) })
	for _, tt := range []struct {
		topic string
		node  string
		ok    bool
	}{
		{"nk/n1/document", "n1", true},
		{"nk/n1/status", "", false},
		{"other/n1/document", "", false},
		{"nk//document", "", false},
		{"nk/n1/document/x", "", false},
	} {
		if node, ok := peerOf("nk", tt.topic, "document"); ok != tt.ok || node != tt.node {
			t.Errorf("peerOf(%q) = %q, %v", tt.topic, node, ok)
		}
	}
	p.status("n1", []byte("online"))
	p.document("n1", []byte(`{"node":"n1"}`))
	p.document("n2", []byte(`{"node":"n2"}`))
	p.document("n3", []byte(`{"node":"n3"}`)) // beyond the cap
	p.document("n2", []byte(`not json`))      // ignored
	p.status("n1", []byte("online"))          // no change, no event
	docs := p.PeerDocuments()
	if len(docs) != 2 || string(docs["n2"]) != `{"node":"n2"}` {
		t.Errorf("documents: %q", docs)
	}
	p.status("n1", []byte("offline"))
	if _, ok := p.PeerDocuments()["n1"]; ok {
		t.Error("an offline peer's document is kept")
	}
	if len(events) != 2 || events[0] != "peer.up n1" || events[1] != "peer.down n1" {
		t.Errorf("events: %q", events)
	}
}

// TestWithOverride: the published document carries the override merged in
// and names its file; without an override it is the sample unchanged.
func TestWithOverride(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		ov        map[string]any
		file      string
		want      string
	}{
		{"no override", `{"system":{"load":[0.1,0.2,0.3]}}`, nil, "/o.json", `{"system":{"load":[0.1,0.2,0.3]}}`},
		{"load faked, file named", `{"node":"n1","system":{"load":[0.1,0.2,0.3],"uptime":5}}`,
			map[string]any{"system": map[string]any{"load": []any{9.0, 8.0, 7.5}}}, "/o.json",
			`{"node":"n1","override":"/o.json","system":{"load":[9,8,7.5],"uptime":5}}`},
		{"policies' view names no file", `{"system":{}}`, map[string]any{"x": 1.0}, "", `{"system":{},"x":1}`},
		{"not an object", `[1]`, map[string]any{"x": 1.0}, "/o.json", `[1]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(withOverride([]byte(tc.raw), tc.ov, tc.file)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
