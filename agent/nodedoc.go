package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nodekeeper/nodekeeper/internal/safefile"
	"github.com/nodekeeper/nodekeeper/telemetry"
	"github.com/nodekeeper/nodekeeper/wire"
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
	raw = withOverride(raw, ov, "")
	a.docCache = docCache{doc: doc, ovVersion: ovVersion, raw: raw}
	return raw
}

// overridden is the published telemetry document with the override file
// merged in, as policies see it, so that the document, the policies'
// decisions and the alerts that quote it agree; while an override is in
// force the document says so in its "override" field (the file's path).
func (a *Agent) overridden(raw []byte) []byte {
	a.mu.Lock()
	ov, _ := a.override.get()
	file := a.override.path
	a.mu.Unlock()
	return withOverride(raw, ov, file)
}

// withOverride merges ov into the JSON object raw; a non-empty file is
// recorded in the result's "override" field. raw is returned as it is when
// ov is nil or raw is not an object.
func withOverride(raw []byte, ov map[string]any, file string) []byte {
	if ov == nil {
		return raw
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	mergeJSON(m, ov)
	if file != "" {
		m["override"] = file
	}
	b, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return b
}

// docCache keeps the last document handed to policies as JSON.
type docCache struct {
	doc       *telemetry.Document
	ovVersion time.Time
	raw       []byte
}

// overrideFile is a JSON object merged into the document policies see, so
// that tests and demos can fake a load: re-read when its mtime changes.
// While one is in force the agent says so (a WARN line when it starts, at
// each reload and every hour, and in the state report); a malformed one is
// refused, naming file and line, and policies see the real values.
type overrideFile struct {
	path    string
	log     *slog.Logger
	changed func() // the state report shows the override: publish it again
	seen    bool   // read at least once
	mod     time.Time
	data    map[string]any
	err     error
	warned  time.Time // the last WARN about the active override
}

// maxOverrideBytes bounds the override file.
const maxOverrideBytes = 1 << 20

// get returns the override's object (nil when there is none or it is
// refused) and its version (the file's mtime).
func (o *overrideFile) get() (map[string]any, time.Time) {
	if o.path == "" {
		return nil, time.Time{}
	}
	fi, err := os.Stat(o.path)
	if err != nil {
		if o.data != nil || o.err != nil {
			o.log.Warn("override file gone: policies see the real values", "file", o.path)
			o.changed()
		}
		o.data, o.err, o.mod, o.seen = nil, nil, time.Time{}, true
		return nil, o.mod
	}
	if !o.seen || !fi.ModTime().Equal(o.mod) {
		o.seen, o.mod, o.warned = true, fi.ModTime(), time.Time{}
		o.data, o.err = readOverride(o.path)
		o.changed()
		if o.err != nil {
			o.log.Warn("override file refused: policies see the real values", "err", o.err)
		}
	}
	if o.data != nil && time.Since(o.warned) >= time.Hour {
		o.warned = time.Now()
		o.log.Warn("override file in force: policies see faked values", "file", o.path)
	}
	return o.data, o.mod
}

// state is the override as the state report shows it; nil when none is
// configured or the file is absent.
func (o *overrideFile) state() *wire.OverrideState {
	if o.data == nil && o.err == nil {
		return nil
	}
	s := &wire.OverrideState{File: o.path, Active: o.data != nil}
	if o.err != nil {
		s.Error = o.err.Error()
	}
	return s
}

// readOverride reads and parses the override file: a regular file of at
// most maxOverrideBytes holding one JSON object. A syntax error names the
// line.
func readOverride(path string) (map[string]any, error) {
	b, err := safefile.ReadFile(path, maxOverrideBytes)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		off := int64(0)
		if errors.As(err, &se) {
			off = se.Offset
		} else if errors.As(err, &te) {
			off = te.Offset
		}
		line := 1 + bytes.Count(b[:min(off, int64(len(b)))], []byte("\n"))
		return nil, fmt.Errorf("%s:%d: %w (want a JSON object)", path, line, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%s:1: null (want a JSON object)", path)
	}
	return m, nil
}

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
