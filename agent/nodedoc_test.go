package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
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

func TestOverrideFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "override.json")
	o := overrideFile{path: path}
	if m, _ := o.get(); m != nil {
		t.Errorf("no file: %v", m)
	}
	os.WriteFile(path, []byte(`{"system":{"load":[9]}}`), 0o600)
	m, v1 := o.get()
	if m == nil || m["system"] == nil {
		t.Fatalf("override: %v", m)
	}
	os.WriteFile(path, []byte(`{"a":1}`), 0o600)
	os.Chtimes(path, time.Now(), v1.Add(time.Second))
	if m, v2 := o.get(); m["a"] != 1.0 || v2.Equal(v1) {
		t.Errorf("changed override not read again: %v", m)
	}
	os.WriteFile(path, []byte(`not json`), 0o600)
	os.Chtimes(path, time.Now(), v1.Add(2*time.Second))
	if m, _ := o.get(); m != nil {
		t.Errorf("bad JSON gives %v, want nothing", m)
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
