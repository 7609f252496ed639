package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

type failing struct{ panics bool }

func (f failing) Collect(context.Context, time.Time, *Document) error {
	if f.panics {
		panic("boom")
	}
	return errors.New("sensor unplugged")
}

// TestFailingCollectorIsReported: a collector that fails or panics reports
// its error in the document and the others still run.
func TestFailingCollectorIsReported(t *testing.T) {
	for _, panics := range []bool{false, true} {
		s, err := NewSampler("n", map[string]bool{"wifi": false, "slivers": false}, Sources{})
		if err != nil {
			t.Fatal(err)
		}
		s.cols["system"] = failing{panics}
		doc := s.Sample(context.Background(), time.Now(), 1, nil)
		want := "sensor unplugged"
		if panics {
			want = "panic: boom"
		}
		if e := doc.Collectors["system"].Error; e != want {
			t.Errorf("panics=%v: system error %q, want %q", panics, e, want)
		}
		if len(doc.Interfaces) == 0 || doc.Agent == nil || doc.Collectors["interfaces"].Error != "" {
			t.Errorf("panics=%v: the other collectors did not run: %+v", panics, doc.Collectors)
		}
	}
}

// TestGroupsCarriedOver: a sample of some groups keeps the others from the
// previous document.
func TestGroupsCarriedOver(t *testing.T) {
	s, err := NewSampler("n", map[string]bool{"wifi": false, "slivers": false}, Sources{})
	if err != nil {
		t.Fatal(err)
	}
	first := s.Sample(context.Background(), time.Now(), 1, nil)
	second := s.Sample(context.Background(), time.Now(), 2, []string{"agent"})
	if second.System != first.System || second.Seq != 2 || s.Latest() != second {
		t.Error("system group not carried over, or Latest is not the newest")
	}
	if _, err := NewSampler("n", map[string]bool{"gpu": true}, Sources{}); err == nil || !strings.Contains(err.Error(), `"gpu"`) {
		t.Errorf("unknown collector: %v", err)
	}
	if got := fmt.Sprint(Groups()); got != "map[agent:true interfaces:true slivers:true system:true wifi:true]" {
		t.Errorf("Groups() = %s", got)
	}
}
