package agent

import (
	"encoding/json"
	"os"
	"time"

	"github.com/nodekeeper/nodekeeper/internal/safefile"
	"github.com/nodekeeper/nodekeeper/telemetry"
)

// nodeSource gives policies the node document: the latest telemetry
// sample as JSON, with the override file (telemetry.override) merged in.
type nodeSource struct{ a *Agent }

// NodeDocument implements policy.NodeSource.
func (n nodeSource) NodeDocument() []byte {
	a := n.a
	pub := a.publisher()
	if pub == nil {
		return nil
	}
	doc := pub.Latest()
	if doc == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ov, ovVersion := a.override.get()
	if a.docCache.doc == doc && a.docCache.ovVersion == ovVersion {
		return a.docCache.raw
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil
	}
	if ov != nil {
		var m map[string]any
		if json.Unmarshal(raw, &m) == nil {
			mergeJSON(m, ov)
			if b, err := json.Marshal(m); err == nil {
				raw = b
			}
		}
	}
	a.docCache = docCache{doc: doc, ovVersion: ovVersion, raw: raw}
	return raw
}

// docCache keeps the last document handed to policies as JSON.
type docCache struct {
	doc       *telemetry.Document
	ovVersion time.Time
	raw       []byte
}

// overrideFile is a JSON object merged into the document policies see, so
// that tests and demos can fake a load: re-read when its mtime changes.
type overrideFile struct {
	path string
	mod  time.Time
	data map[string]any
}

// get returns the override's object (nil when there is none) and its
// version (the file's mtime).
func (o *overrideFile) get() (map[string]any, time.Time) {
	if o.path == "" {
		return nil, time.Time{}
	}
	fi, err := os.Stat(o.path)
	if err != nil {
		o.data, o.mod = nil, time.Time{}
		return nil, o.mod
	}
	if !fi.ModTime().Equal(o.mod) {
		o.mod = fi.ModTime()
		o.data = nil
		if b, err := safefile.ReadFile(o.path, maxOverride); err == nil {
			var m map[string]any
			if json.Unmarshal(b, &m) == nil {
				o.data = m
			}
		}
	}
	return o.data, o.mod
}

// maxOverride bounds the override file (telemetry.override).
const maxOverride = 1 << 20

// mergeJSON merges src into dst: objects field by field, anything else
// replaced.
func mergeJSON(dst, src map[string]any) {
	for k, v := range src {
		if sv, ok := v.(map[string]any); ok {
			if dv, ok := dst[k].(map[string]any); ok {
				mergeJSON(dv, sv)
				continue
			}
		}
		dst[k] = v
	}
}
