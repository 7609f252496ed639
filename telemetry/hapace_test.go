package telemetry

import (
	"testing"
	"time"
)

// TestHADiscoveryPaced: a broker user publishing "online" on Home
// Assistant's status topic 10000 times costs the node one republication of
// its discovery configs at once and one more at the end of the interval,
// not 10000 (counted, not timed).
func TestHADiscoveryPaced(t *testing.T) {
	var h haPace
	wake := make(chan struct{}, 1)
	now := time.Now()
	for i := range 10000 {
		h.online(wake, now.Add(time.Duration(i)*time.Microsecond))
	}
	h.mu.Lock()
	wakes, pending := h.wakes, h.pending
	h.mu.Unlock()
	if wakes != 1 || !pending {
		t.Errorf("after 10000 onlines in 10ms: %d wake-ups (pending %v), want 1 and one pending", wakes, pending)
	}
	// Once the interval has passed, the next wakes at once.
	h.mu.Lock()
	h.pending = false
	h.mu.Unlock()
	h.online(wake, now.Add(haMinInterval+time.Second))
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.wakes != 2 {
		t.Errorf("after the interval: %d wake-ups, want 2", h.wakes)
	}
}
