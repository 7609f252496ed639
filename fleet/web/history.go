package web

import (
	"math"
	"time"
)

// Points is how many points of history a series keeps: an hour at the
// default step of a minute.
const Points = 60

// maxSeries bounds the series one node keeps (its system's and up to a
// few interfaces, stations and slivers): a node's history stays a few
// KiB whatever it reports.
const maxSeries = 24

// history is one node's recent telemetry: a ring of Points buckets of
// step each; a bucket holds the last sample that fell in it. Memory is
// fixed per series (Points float32s), so the fleet view's history is
// bounded by nodes × maxSeries × Points × 4 bytes.
type history struct {
	// buckets holds the bucket number (unix time / step, its low 32
	// bits: unique for 136 years of seconds) each slot is for; a slot of
	// an older bucket is stale.
	buckets [Points]uint32
	latest  int64
	// series grows one at a time (exactly: a fleet's history is mostly
	// these arrays).
	series []series
}

type series struct {
	name string
	vals [Points]float32
}

// bucket returns the bucket of t.
func bucket(t time.Time, step time.Duration) int64 { return t.UnixNano() / int64(step) }

// begin starts a sample at bucket b: the slot is cleared if it held an
// older bucket. It returns false for a sample older than the ring.
func (h *history) begin(b int64) bool {
	if b <= h.latest-Points {
		return false
	}
	slot := int(b % Points)
	if h.buckets[slot] != uint32(b) {
		h.buckets[slot] = uint32(b)
		for i := range h.series {
			h.series[i].vals[slot] = float32(math.NaN())
		}
	}
	h.latest = max(h.latest, b)
	return true
}

// set records v for the series name in bucket b (begun).
func (h *history) set(b int64, name string, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	slot := int(b % Points)
	for i := range h.series {
		if h.series[i].name == name {
			h.series[i].vals[slot] = float32(v)
			return
		}
	}
	if len(h.series) >= maxSeries {
		return
	}
	s := series{name: name}
	for i := range s.vals {
		s.vals[i] = float32(math.NaN())
	}
	s.vals[slot] = float32(v)
	grown := make([]series, len(h.series)+1)
	copy(grown, h.series)
	grown[len(h.series)] = s
	h.series = grown
}

// points returns the series' values, oldest first, for the Points
// buckets up to now's (NaN where none came); nil if the series is
// unknown.
func (h *history) points(name string, now int64) []float64 {
	for i := range h.series {
		if h.series[i].name != name {
			continue
		}
		out := make([]float64, Points)
		for j := range out {
			b := now - Points + 1 + int64(j)
			slot := int(((b % Points) + Points) % Points)
			if h.buckets[slot] == uint32(b) && b > 0 && b > h.latest-Points && b <= h.latest {
				out[j] = float64(h.series[i].vals[slot])
			} else {
				out[j] = math.NaN()
			}
		}
		return out
	}
	return nil
}

// names returns the series' names with the prefix, in the order they
// first came.
func (h *history) names(prefix string) []string {
	var out []string
	for _, s := range h.series {
		if len(s.name) >= len(prefix) && s.name[:len(prefix)] == prefix {
			out = append(out, s.name)
		}
	}
	return out
}
