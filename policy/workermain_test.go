package policy

import (
	"runtime"
	"testing"
	"time"
)

// The worker collects between rounds at most every idleCollectEvery, by
// the clock it is given.
func TestCollectIdleAtMostEvery(t *testing.T) {
	var w worker
	gcs := func() uint32 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.NumForcedGC
	}
	t0 := time.Unix(1_800_000_000, 0)
	n := gcs()
	w.collectIdle(t0)
	if got := gcs(); got != n+1 {
		t.Fatalf("first call: %d forced collections, want 1", got-n)
	}
	w.collectIdle(t0.Add(idleCollectEvery - time.Second))
	if got := gcs(); got != n+1 {
		t.Fatalf("within %s: %d forced collections, want still 1", idleCollectEvery, got-n)
	}
	w.collectIdle(t0.Add(idleCollectEvery))
	if got := gcs(); got != n+2 {
		t.Fatalf("after %s: %d forced collections, want 2", idleCollectEvery, got-n)
	}
}
