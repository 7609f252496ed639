package aggregate

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/wire"
)

// MemoryTopicLeaf is the memory's topic under the prefix:
// <prefix>/_fleet/aggregate. Node ids the fleet accepts never start
// with '_'.
const MemoryTopicLeaf = "_fleet/aggregate"

// MemoryTopic returns the memory's topic.
func MemoryTopic(c *broker.Conn) string { return c.Prefix() + "/" + MemoryTopicLeaf }

// Memory is what aggregation policies remember between evaluations, for
// hold and cooldown. The fleet keeps it where it keeps all its state: on
// the broker, retained and signed by the admin whose process evaluated
// last (SaveMemory), so any admin's process continues it.
type Memory struct {
	Who     string    `json:"who,omitempty"`
	Key     string    `json:"key,omitempty"` // id of the key that signs it
	Updated time.Time `json:"updated"`
	// Policies are by policy name.
	Policies map[string]*PolicyMemory `json:"policies"`
}

// PolicyMemory is one policy's memory.
type PolicyMemory struct {
	LastEvaluation time.Time `json:"last_evaluation"`
	// HeldSince is when the condition became true and stayed true on
	// every evaluation since (zero: false at the last one).
	HeldSince time.Time `json:"held_since,omitzero"`
	// LastAct is when act last decided something; Decisions are what it
	// decided (they stand during the cooldown).
	LastAct   time.Time  `json:"last_act,omitzero"`
	Decisions []Decision `json:"decisions,omitempty"`
}

func (m *Memory) policy(name string) *PolicyMemory {
	if m.Policies == nil {
		m.Policies = map[string]*PolicyMemory{}
	}
	pm := m.Policies[name]
	if pm == nil {
		pm = &PolicyMemory{}
		m.Policies[name] = pm
	}
	return pm
}

// Waiting says why p did not act at now after an evaluation that updated
// m: "holding 30s of 2m", "cooldown until ..." or "" (it acted, its
// condition is false, or nothing holds it back).
func (m *Memory) Waiting(p *Policy, now time.Time) string {
	pm := m.Policies[p.Name]
	if pm == nil {
		return ""
	}
	if until := pm.LastAct.Add(p.Cooldown); p.Cooldown > 0 && !pm.LastAct.IsZero() && now.Before(until) && !pm.LastAct.Equal(now) {
		return "in its cooldown until " + until.UTC().Format(time.RFC3339) + ": act does not run, its last decisions stand"
	}
	if p.Hold > 0 && !pm.HeldSince.IsZero() && now.Sub(pm.HeldSince) < p.Hold {
		return fmt.Sprintf("condition true, holding %v of %v (since %s)", now.Sub(pm.HeldSince).Round(time.Second), p.Hold, pm.HeldSince.UTC().Format(time.RFC3339))
	}
	return ""
}

// ReadMemory returns the retained memory: an empty one when there is
// none; with an error too when it does not verify with one of trusted
// (callers evaluate afresh then, and say so).
func ReadMemory(ctx context.Context, c *broker.Conn, trusted []wire.PublicKey, quiet time.Duration) (*Memory, error) {
	msgs, err := c.Retained(ctx, []string{MemoryTopic(c)}, quiet)
	if err != nil {
		return nil, err
	}
	b, ok := msgs[MemoryTopic(c)]
	if !ok {
		return &Memory{}, nil
	}
	return ParseMemory(b, trusted)
}

// ParseMemory reads the memory's envelope and checks its signature. A
// memory that does not verify, or does not parse, comes back empty with
// the error: its hold and cooldown are not believed.
func ParseMemory(b []byte, trusted []wire.PublicKey) (*Memory, error) {
	doc, _, verr := wire.Open(trusted, b)
	if verr != nil {
		var env wire.Envelope
		var who struct {
			Who string `json:"who"`
		}
		if json.Unmarshal(b, &env) == nil {
			json.Unmarshal(env.Document, &who)
		}
		return &Memory{}, fmt.Errorf("aggregation memory by %q: %w", who.Who, verr)
	}
	var m Memory
	if err := json.Unmarshal(doc, &m); err != nil {
		return &Memory{}, fmt.Errorf("aggregation memory: %w", err)
	}
	for name, pm := range m.Policies {
		if pm == nil {
			delete(m.Policies, name)
		}
	}
	return &m, nil
}

// SaveMemory signs m with k and publishes it, retained, for the next
// evaluation, whichever admin's process runs it.
func SaveMemory(ctx context.Context, c *broker.Conn, m *Memory, k wire.SecretKey, who string, now time.Time) error {
	m.Who, m.Key, m.Updated = who, k.Public().ID(), now.UTC().Truncate(time.Millisecond)
	return c.PublishSealed(ctx, MemoryTopic(c), k, m, "aggregation memory")
}
