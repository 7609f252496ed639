package agent

import "testing"

func TestDefaultNodeID(t *testing.T) {
	id := DefaultNodeID()
	if !validTopicLevel(id) || len(id) < 4 || id[:3] != "nk-" {
		t.Errorf("DefaultNodeID() = %q", id)
	}
	if again := DefaultNodeID(); again != id {
		t.Errorf("DefaultNodeID() changed: %q, then %q", id, again)
	}
}
