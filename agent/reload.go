package agent

import (
	"context"
	"errors"
	"reflect"
	"runtime/debug"

	"github.com/nodekeeper/nodekeeper/wire"
)

// reload re-reads the committed configuration (SIGHUP). An invalid one is
// refused with one log line naming file, section and option, and the
// running configuration stays. A valid one also ends the failure state.
// The caller holds applyMu.
func (a *Agent) reload(ctx context.Context) {
	cfg, err := LoadConfig(a.cursor)
	if err != nil {
		a.log.Error("config refused: the running configuration stays", "err", oneLine(err))
		a.addError("config", 0, "refused: "+err.Error())
		return
	}
	wasFailed := a.resetHealth()
	err = a.reconfigure(ctx, cfg)
	if err != nil {
		a.internalError("config", err)
	}
	if wasFailed {
		a.leftFailure(ctx, "configuration reloaded")
	}
	if err != nil {
		return
	}
	a.loadSysInfo()
	if e := a.policyEngine(); e != nil {
		if err := e.Reload(); err != nil {
			a.log.Warn("policies reloaded with errors", "err", oneLine(err))
		}
	}
	a.log.Info("configuration reloaded", "config", cfg.File)
	a.clearErrors(func(e *wire.ErrorEntry) bool { return e.Kind == "config" }) // a refused config is behind us
}

// restartOnly lists the settings that changed between old and new but
// take effect only at the agent's next start (paths it holds open, the
// node id the slivers are named after).
func restartOnly(old, new *Config) []string {
	var out []string
	diff := func(name string, x, y any) {
		if !reflect.DeepEqual(x, y) {
			out = append(out, name)
		}
	}
	diff("agent.node_id", old.Agent.NodeID, new.Agent.NodeID)
	diff("agent.state_dir", old.Agent.StateDir, new.Agent.StateDir)
	diff("agent.run_dir", old.Agent.RunDir, new.Agent.RunDir)
	diff("agent.control_socket", old.Agent.ControlSocket, new.Agent.ControlSocket)
	diff("agent.log_target", old.Agent.LogTarget, new.Agent.LogTarget)
	diff("slivers", old.Slivers, new.Slivers)
	diff("network.enabled", old.Network.Enabled, new.Network.Enabled)
	diff("network.netns", old.Network.Netns, new.Network.Netns)
	diff("network.state_dir", old.Network.StateDir, new.Network.StateDir)
	return out
}

// reconfigure puts a new, valid configuration in force: the log level and
// node state at once; the publisher and the policy engine are replaced
// when their settings changed; the network is synced when its sections
// changed, or retried while the network has an error (its namespace may
// have appeared). Settings that need a restart keep their running value (and are
// logged). The caller holds applyMu.
func (a *Agent) reconfigure(ctx context.Context, cfg *Config) error {
	old := a.config()
	if later := restartOnly(old, cfg); len(later) > 0 {
		a.log.Warn("settings take effect at the next start", "settings", later)
		cfg.Agent.NodeID, cfg.Agent.StateDir, cfg.Agent.RunDir = old.Agent.NodeID, old.Agent.StateDir, old.Agent.RunDir
		cfg.Agent.ControlSocket, cfg.Agent.LogTarget = old.Agent.ControlSocket, old.Agent.LogTarget
		cfg.Slivers = old.Slivers
		cfg.Network.Enabled, cfg.Network.Netns, cfg.Network.StateDir = old.Network.Enabled, old.Network.Netns, old.Network.StateDir
		cfg.Telemetry.NodeID = old.Telemetry.NodeID
	}
	a.mu.Lock()
	a.cfg = cfg
	a.override = overrideFile{path: cfg.Telemetry.Override, log: a.log, changed: a.markDirty}
	a.override.get() // and at each reload
	a.health.threshold, a.health.window = cfg.Agent.FailureThreshold, cfg.Agent.FailureWindow
	a.mu.Unlock()
	a.level.Set(parseLevel(cfg.Agent.LogLevel))
	if cfg.Agent.MemoryLimit > 0 {
		debug.SetMemoryLimit(cfg.Agent.MemoryLimit)
	}
	var errs []error
	if !reflect.DeepEqual(old.Telemetry, cfg.Telemetry) || !reflect.DeepEqual(subscriptions(old), subscriptions(cfg)) {
		errs = append(errs, a.restartPublisher())
	}
	if !reflect.DeepEqual(old.Policy, cfg.Policy) {
		errs = append(errs, a.restartEngine())
	}
	if !reflect.DeepEqual(old.Network.Sections, cfg.Network.Sections) {
		errs = append(errs, a.syncNetwork(ctx))
	} else if a.hasErrorOf("network") {
		a.syncNetwork(ctx) // a retry: a failure is the network's own error again
	}
	if old.Agent.NodeState != cfg.Agent.NodeState {
		a.log.Info("node state", "from", old.Agent.NodeState, "to", cfg.Agent.NodeState)
		a.enforceNodeState(ctx)
	}
	a.markDirty()
	return errors.Join(errs...)
}

// subscriptions is what of the remote settings the publisher subscribes to.
func subscriptions(c *Config) any {
	return []any{c.Remote.Enabled, len(c.Remote.TrustedKeys) > 0, c.Remote.Peers, c.Remote.PeersAll}
}
