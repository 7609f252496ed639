package telemetry

import (
	"context"
	"math"
	"sync"
	"time"
)

// A Sampler runs collectors and assembles documents. Groups not collected
// in a sample are carried over from the previous document, so every
// document is complete. A Sampler is used by one goroutine at a time.
type Sampler struct {
	node  string
	cols  map[string]Collector
	order []string
	mu    sync.Mutex
	last  *Document
}

// NewSampler builds the collectors switched on in enabled (nil: the
// defaults, see Groups) over src.
func NewSampler(node string, enabled map[string]bool, src Sources) (*Sampler, error) {
	cols, err := newCollectors(enabled, src)
	if err != nil {
		return nil, err
	}
	s := &Sampler{node: node, cols: cols}
	for _, n := range groupNames() {
		if _, ok := cols[n]; ok {
			s.order = append(s.order, n)
		}
	}
	return s, nil
}

// Groups returns the names of the enabled collectors in a stable order.
func (s *Sampler) Groups() []string { return append([]string(nil), s.order...) }

// Sample runs the collectors of groups (all enabled ones when groups is nil)
// and returns the new document, numbered seq and stamped now.
func (s *Sampler) Sample(ctx context.Context, now time.Time, seq uint64, groups []string) *Document {
	if groups == nil {
		groups = s.order
	}
	doc := &Document{Node: s.node, Seq: seq, TS: math.Round(float64(now.UnixMilli())) / 1000}
	s.mu.Lock()
	last := s.last
	s.mu.Unlock()
	if last != nil {
		doc.System, doc.Interfaces, doc.Wifi, doc.Slivers, doc.Agent = last.System, last.Interfaces, last.Wifi, last.Slivers, last.Agent
	}
	doc.Collectors = make(map[string]CollectorStatus, len(s.cols))
	if last != nil {
		for k, v := range last.Collectors {
			doc.Collectors[k] = v
		}
	}
	for _, g := range groups {
		if c, ok := s.cols[g]; ok {
			runCollector(ctx, g, c, now, doc)
		}
	}
	s.mu.Lock()
	s.last = doc
	s.mu.Unlock()
	return doc
}

// Latest returns the last document, nil before the first sample.
func (s *Sampler) Latest() *Document {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// closer is implemented by collectors that hold files or sockets open.
type closer interface{ close() }

// Close releases what the collectors hold open (files, sockets). The
// Sampler must not be used afterwards.
func (s *Sampler) Close() {
	for _, c := range s.cols {
		if c, ok := c.(closer); ok {
			c.close()
		}
	}
}

// carry starts the sampler from a predecessor's last document (a reload
// replaced the publisher) when it ran the same collectors, so the latest
// values stay known until the first sample.
func (s *Sampler) carry(doc *Document) {
	if doc == nil || len(doc.Collectors) != len(s.cols) {
		return
	}
	for g := range s.cols {
		if _, ok := doc.Collectors[g]; !ok {
			return
		}
	}
	d := *doc
	s.mu.Lock()
	if s.last == nil {
		s.last = &d
	}
	s.mu.Unlock()
}
