package agent

import (
	"context"
	"fmt"
	"os"

	"github.com/nodekeeper/nodekeeper/policy"
)

// startEngine builds the policy engine from the configuration in force
// and runs it: it loads the policy directory, evaluates on schedule and
// reloads files that change.
func (a *Agent) startEngine() error {
	cfg := a.config()
	// The directory exists so that the engine watches it from the start.
	if err := os.MkdirAll(cfg.Policy.Dir, 0o755); err != nil {
		return fmt.Errorf("policy dir: %w", err)
	}
	e, err := policy.New(policy.Config{
		Dir:      cfg.Policy.Dir,
		Budget:   cfg.Policy.Budget,
		DryRun:   cfg.Policy.DryRun,
		UCIAllow: cfg.Policy.UCIAllow,
		Actuator: actuator{a},
		Node:     nodeSource{a},
		Peers:    a.peers,
		Sink:     decisionSink{a},
		Logger:   a.log.With("component", "policy"),
		Worker:   a.opts.Worker,
	})
	if err != nil {
		return fmt.Errorf("policy engine: %w", err)
	}
	ctx, cancel := context.WithCancel(a.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Run(ctx)
	}()
	a.mu.Lock()
	a.engine = e
	a.engStop = func() { cancel(); <-done; e.Close() }
	a.mu.Unlock()
	return nil
}

// restartEngine replaces the engine (the policy settings changed). The
// policies' state starts afresh.
func (a *Agent) restartEngine() error {
	a.mu.Lock()
	stop := a.engStop
	a.engStop = nil
	a.mu.Unlock()
	if stop != nil {
		stop()
	}
	return a.startEngine()
}
