package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/internal/safefile"
	"github.com/nodekeeper/nodekeeper/netcfg"
	"github.com/nodekeeper/nodekeeper/policy"
	"github.com/nodekeeper/nodekeeper/uci"
	"github.com/nodekeeper/nodekeeper/wire"
)

// A desired document applies all or nothing:
//
//  1. prepare checks everything first: the settings (the config they make
//     must load), the policy files (`policy check`), the slivers; what the
//     owner keeps (list unmanaged) and what admission refuses is left out
//     and reported; anything else wrong refuses the whole document;
//  2. the undo log (what every change replaces) is saved;
//  3. execute commits the settings and reloads, writes the policy files,
//     applies and removes slivers; a failure rolls back to the last good
//     document;
//  4. confirm: the broker must acknowledge the state within the confirm
//     window, else the document is rolled back, and the failure is
//     reported once the broker is back (the state topic is retained).

// applyPlan is a prepared document.
type applyPlan struct {
	seq      uint64
	settings []settingChange
	files    map[string]*string // policy file -> source; nil removes it
	slivers  []container.Spec
	remove   []string
	// What documents manage once this one applies.
	managedSlivers, managedPolicies []string
}

type settingChange struct {
	section, option string
	createType      string // the section is missing: create it with this type
	value           wire.Setting
}

// refusal is a part of a document that was left out.
type refusal struct{ member, msg string }

// apply runs a document through prepare, execute and confirm. The caller
// holds applyMu.
func (a *Agent) apply(ctx context.Context, d *desiredDoc, raw []byte, signer wire.PublicKey) {
	digest := docDigest(raw)
	plan, undo, refusals, err := a.prepare(ctx, d, signer)
	for _, r := range refusals {
		a.log.Warn("desired document: part left out", "seq", d.Seq, "member", r.member, "why", r.msg)
		a.addError(r.member, d.Seq, r.msg)
	}
	if err != nil {
		a.refuseSpent(d.Seq, digest, err)
		return
	}
	undo.Digest = digest
	if err := a.store.savePending(undo); err != nil {
		a.internalError("state", err)
		a.refuseSpent(d.Seq, digest, fmt.Errorf("cannot save the undo log: %w", err))
		return
	}
	err = a.execute(ctx, plan)
	window := a.config().Remote.ConfirmWindow
	if err == nil {
		if err = a.confirm(ctx, window); err != nil {
			err = fmt.Errorf("document seq %d rolled back: the broker did not acknowledge within the %v confirm window after it applied (%v)", d.Seq, window, err)
		}
	} else {
		err = fmt.Errorf("document seq %d failed to apply: %w", d.Seq, err)
	}
	if err != nil && ctx.Err() != nil {
		// Stopping: the undo log stays, and the next start rolls back.
		a.log.Warn("stopping while a document applies: the next start rolls it back", "seq", d.Seq)
		return
	}
	if err != nil {
		a.rollback(ctx, undo, err)
		return
	}
	a.mu.Lock()
	a.remote.AppliedSeq = d.Seq
	a.remote.Document = raw
	a.remote.Signer = signer.ID()
	a.remote.Slivers = plan.managedSlivers
	a.remote.Policies = plan.managedPolicies
	a.remote.Refused = nil
	rs := a.remote
	a.mu.Unlock()
	if err := a.saveRemote(rs); err != nil {
		a.internalError("state", err)
	}
	if err := a.store.clearPending(); err != nil {
		a.internalError("state", err)
	}
	a.leaveFailure(ctx, fmt.Sprintf("document seq %d applied", d.Seq))
	a.log.Info("desired document applied", "seq", d.Seq, "signer", signer.ID())
	a.documentApplied(d.Seq, plan, undo)
	a.markDirty()
}

// prepare checks a document against the node and returns what to do and
// how to undo it.
func (a *Agent) prepare(ctx context.Context, d *desiredDoc, signer wire.PublicKey) (*applyPlan, *undoLog, []refusal, error) {
	cfg := a.config()
	un := unmanagedSet(cfg.Remote.Unmanaged)
	plan := &applyPlan{seq: d.Seq, files: map[string]*string{}}
	a.mu.Lock()
	prev := a.remote
	a.mu.Unlock()
	undo := &undoLog{Seq: d.Seq, Started: time.Now().UTC(), Prev: prev}
	var refused []refusal

	// Settings, tried on a copy of the config first.
	d.WithNodeState()
	p, err := a.cursor.LoadCommitted(Package)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("config: %w", err)
	}
	for _, key := range d.SettingsInOrder() {
		sec, opt, _ := strings.Cut(key, ".")
		if no, why := un.setting(sec, opt); no {
			refused = append(refused, refusal{"setting " + key, why + ": not changed"})
			continue
		}
		ch := settingChange{section: sec, option: opt, value: d.Settings[key]}
		s := p.Section(sec)
		if s == nil {
			if _, ok := agentSections[sec]; !ok {
				return nil, nil, nil, fmt.Errorf("setting %s: no section %q in %s (documents create only the agent's own sections)", key, sec, cfg.File)
			}
			ch.createType = sec
		} else if _, ok := agentSections[s.Type()]; !ok && !slices.Contains(netSectionTypes, s.Type()) {
			return nil, nil, nil, fmt.Errorf("setting %s: section %q is not nodekeeper's", key, sec)
		}
		typ := ch.createType
		if s != nil {
			typ = s.Type()
		}
		if ok, why := remoteAllowed(cfg.Remote.RemoteAllow, sec, typ, opt); !ok {
			refused = append(refused, refusal{"setting " + key, why + ": not changed"})
			continue
		}
		u := uciUndo{Section: sec, Option: opt, NewSection: ch.createType}
		if s != nil {
			if o := s.Option(opt); o != nil {
				u.Had, u.List, u.Values = true, o.IsList(), o.Values()
			}
		}
		if err := setOption(p, ch); err != nil {
			return nil, nil, nil, fmt.Errorf("setting %s: %w", key, err)
		}
		plan.settings = append(plan.settings, ch)
		undo.UCI = append(undo.UCI, u)
	}
	newCfg := cfg
	if len(plan.settings) > 0 {
		if newCfg, err = parseConfig(cfg.File, p); err != nil {
			return nil, nil, nil, fmt.Errorf("its settings make an invalid config: %w", err)
		}
		for _, k := range restartOnly(cfg, newCfg) {
			refused = append(refused, refusal{"setting " + k, "takes effect at the agent's next start"})
		}
	}

	// Policy files, checked as `nodekeeper policy check` does.
	managedPolicies := slices.Clone(prev.Policies)
	if d.Policies != nil {
		want := *d.Policies
		managedPolicies = nil
		var check []string
		tmp, err := os.MkdirTemp("", "nodekeeper-policies-")
		if err != nil {
			return nil, nil, nil, err
		}
		defer os.RemoveAll(tmp)
		for _, name := range sortedKeys(want) {
			if no, why := un.policyFile(name); no {
				refused = append(refused, refusal{"policy " + name, why + ": not changed"})
				if slices.Contains(prev.Policies, name) {
					managedPolicies = append(managedPolicies, name)
				}
				continue
			}
			managedPolicies = append(managedPolicies, name)
			src := want[name]
			old, had, err := readPolicy(newCfg.Policy.Dir, name)
			if err != nil {
				return nil, nil, nil, err
			}
			if had && bytes.Equal(old, []byte(src)) {
				continue
			}
			f := filepath.Join(tmp, name)
			if err := os.WriteFile(f, []byte(src), 0o600); err != nil {
				return nil, nil, nil, err
			}
			check = append(check, f)
			plan.files[name] = &src
			undo.Files = append(undo.Files, fileUndo{Name: name, Had: had, Data: old})
		}
		for _, name := range prev.Policies {
			if _, keep := want[name]; keep {
				continue
			}
			if no, why := un.policyFile(name); no {
				refused = append(refused, refusal{"policy " + name, why + ": not removed"})
				managedPolicies = append(managedPolicies, name)
				continue
			}
			old, had, err := readPolicy(newCfg.Policy.Dir, name)
			if err != nil {
				return nil, nil, nil, err
			}
			if had {
				plan.files[name] = nil
				undo.Files = append(undo.Files, fileUndo{Name: name, Had: true, Data: old})
			}
		}
		if len(check) > 0 {
			var out bytes.Buffer
			tools := policy.Tools{Budget: newCfg.Policy.Budget, UCIAllow: newCfg.Policy.UCIAllow, Worker: a.opts.Worker}
			if tools.Check(check, &out) > 0 {
				return nil, nil, nil, fmt.Errorf("policy check: %s", strings.TrimSpace(strings.ReplaceAll(out.String(), tmp+"/", "")))
			}
		}
	}
	plan.managedPolicies = managedPolicies

	// Slivers: admission for new ones, the owner's slices left alone.
	plan.managedSlivers = slices.Clone(prev.Slivers)
	if d.Slivers != nil {
		if a.slivers == nil && len(*d.Slivers) > 0 {
			return nil, nil, nil, fmt.Errorf("slivers: %w", a.sliversErr)
		}
		plan.managedSlivers = nil
		used := map[int]bool{}
		if a.slivers != nil {
			for _, s := range a.slivers.Slivers() {
				used[s.ID] = true
			}
		}
		for _, s := range *d.Slivers {
			used[s.ID] = true
		}
		eng := a.policyEngine()
		wanted := map[string]bool{}
		for _, spec := range *d.Slivers {
			wanted[spec.Name] = true
			old, err := a.slivers.Get(spec.Name)
			exists := err == nil
			no, why := un.slice(spec.Slice)
			if !no && !cfg.Slivers.RemoteLocalArchives && (spec.Template.Local() || spec.Data != nil && spec.Data.Local()) {
				// A path names a file of the node: an oracle of its hash,
				// or a local archive of secrets unpacked into the sliver.
				no, why = true, "its template or data archive is a file on the node, which documents name only if the owner lets them (option remote_local_archives in config slivers)"
			}
			if no || (exists && old.Slice != spec.Slice && unmanagedSlice(un, old.Slice)) {
				refused = append(refused, refusal{"sliver " + spec.Name, why + ": not changed"})
				if slices.Contains(prev.Slivers, spec.Name) {
					plan.managedSlivers = append(plan.managedSlivers, spec.Name)
				}
				continue
			}
			if !exists && eng != nil {
				adm := eng.Admit(ctx, policy.AdmitRequest{Sliver: spec.Name, Slice: spec.Slice, Owner: signer.ID(),
					Resources: policy.Resources{CPU: float64(spec.Resources.CPUMillicores) / 1000,
						MemoryBytes: spec.Resources.MemoryBytes, DiskBytes: spec.Resources.DiskBytes}}, time.Now())
				if !adm.Allowed {
					refused = append(refused, refusal{"sliver " + spec.Name, fmt.Sprintf("refused by policy %s: %s", adm.Policy, adm.Reason)})
					continue
				}
			}
			if exists {
				spec.ID = old.ID
			} else if spec.ID == 0 {
				for id := 1; id <= netcfg.MaxSliverID; id++ {
					if !used[id] {
						spec.ID, used[id] = id, true
						break
					}
				}
			}
			if err := a.sliverInterfaces(&spec); err != nil {
				return nil, nil, nil, err
			}
			plan.slivers = append(plan.slivers, spec)
			plan.managedSlivers = append(plan.managedSlivers, spec.Name)
			u := sliverUndo{Name: spec.Name}
			if exists {
				o := old.Spec
				if h, ok := prev.Held[o.Name]; ok {
					o.Request = h
				}
				u.Old = &o
			}
			undo.Slivers = append(undo.Slivers, u)
		}
		for _, name := range prev.Slivers {
			if wanted[name] {
				continue
			}
			old, err := a.slivers.Get(name)
			if err != nil {
				continue // gone already
			}
			if no, why := un.slice(old.Slice); no {
				refused = append(refused, refusal{"sliver " + name, why + ": not removed"})
				plan.managedSlivers = append(plan.managedSlivers, name)
				continue
			}
			plan.remove = append(plan.remove, name)
			o := old.Spec
			undo.Slivers = append(undo.Slivers, sliverUndo{Name: name, Old: &o})
		}
	}
	return plan, undo, refused, nil
}

func unmanagedSlice(un unmanagedSet, slice string) bool {
	no, _ := un.slice(slice)
	return no
}

// maxPolicyUndo bounds a policy file kept in the undo log (the engine
// loads none above 256 KiB).
const maxPolicyUndo = 1 << 20

// readPolicy reads a policy file a document replaces or removes, for the
// undo log; had is false when it does not exist. Whoever can write the
// policy directory chooses what is there: a FIFO or a link to a device is
// an error (the document is refused), never a blocking or endless read.
func readPolicy(dir, name string) (data []byte, had bool, err error) {
	b, err := safefile.ReadFile(filepath.Join(dir, name), maxPolicyUndo)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("policy %s: %w", name, err)
	}
	return b, true, nil
}

// setOption applies one setting to a package.
func setOption(p *uci.Package, ch settingChange) error {
	if ch.createType != "" {
		if err := p.Set(ch.section, "", ch.createType); err != nil {
			return err
		}
	}
	if ch.value.Delete {
		if err := p.Delete(ch.section, ch.option); err != nil && !errors.Is(err, uci.ErrNotFound) {
			return err
		}
		return nil
	}
	if !ch.value.List {
		return p.Set(ch.section, ch.option, ch.value.Values[0])
	}
	if err := p.Delete(ch.section, ch.option); err != nil && !errors.Is(err, uci.ErrNotFound) {
		return err
	}
	for _, v := range ch.value.Values {
		if err := p.AddList(ch.section, ch.option, v); err != nil {
			return err
		}
	}
	return nil
}

// execute carries a prepared document out; the first failure stops it.
func (a *Agent) execute(ctx context.Context, plan *applyPlan) error {
	if len(plan.settings) > 0 {
		p, err := a.writer.LoadCommitted(Package)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		for _, ch := range plan.settings {
			if err := setOption(p, ch); err != nil {
				return fmt.Errorf("setting %s.%s: %w", ch.section, ch.option, err)
			}
		}
		if err := p.Commit(); err != nil {
			return fmt.Errorf("commit settings: %w", err)
		}
		cfg, err := LoadConfig(a.cursor)
		if err != nil {
			return err
		}
		if err := a.reconfigure(ctx, cfg); err != nil {
			return err
		}
	}
	if len(plan.files) > 0 {
		dir := a.config().Policy.Dir
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("policy dir: %w", err)
		}
		for _, name := range sortedKeys(plan.files) {
			if src := plan.files[name]; src != nil {
				if err := writeFileAtomic(filepath.Join(dir, name), []byte(*src), 0o644); err != nil {
					return err
				}
			} else if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove policy %s: %w", name, err)
			}
		}
		if e := a.policyEngine(); e != nil {
			if err := e.Reload(); err != nil {
				return fmt.Errorf("policies: %w", err)
			}
		}
	}
	if len(plan.slivers)+len(plan.remove) > 0 {
		for _, spec := range plan.slivers {
			if err := a.applySliver(ctx, spec); err != nil {
				return err
			}
		}
		for _, name := range plan.remove {
			if err := a.slivers.Remove(ctx, name); err != nil {
				return fmt.Errorf("remove sliver %s: %w", name, err)
			}
			a.setHeld(name, "")
		}
		if err := a.syncNetwork(ctx); err != nil {
			return fmt.Errorf("network for the slivers: %w", err)
		}
	}
	return nil
}

// applySliver creates or updates a sliver, its request held down to what
// the node state allows.
func (a *Agent) applySliver(ctx context.Context, spec container.Spec) error {
	want := spec.Request
	spec.Request = capRequest(want, a.nodeState())
	if spec.Request != want {
		a.setHeld(spec.Name, want)
	} else {
		a.setHeld(spec.Name, "")
	}
	if _, err := a.slivers.Apply(ctx, spec); err != nil {
		return fmt.Errorf("sliver %s: %w", spec.Name, err)
	}
	return nil
}

// setHeld records (or with "" forgets) a request the node state holds down.
func (a *Agent) setHeld(name string, r container.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r == "" {
		delete(a.remote.Held, name)
		return
	}
	if a.remote.Held == nil {
		a.remote.Held = map[string]container.Request{}
	}
	a.remote.Held[name] = r
}

// confirm waits until the broker acknowledges the state report, for at
// most window: the node still reaches it after the document.
func (a *Agent) confirm(ctx context.Context, window time.Duration) error {
	deadline := time.Now().Add(window)
	err := errors.New("no try")
	for time.Now().Before(deadline) {
		if pub := a.publisher(); pub != nil {
			b, _ := stateJSON(a.report())
			// Signed like every state report: admin tools believe no other.
			signed, serr := wire.SignState(a.identity, b)
			if serr != nil {
				return fmt.Errorf("state report not signed: %w", serr)
			}
			cctx, cancel := context.WithDeadline(ctx, deadline)
			err = pub.PublishNow(cctx, pub.Topic("state"), signed, true)
			cancel()
			if err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return err
}

// rollback undoes what an apply changed, back to the last good document,
// and reports why. The caller holds applyMu.
func (a *Agent) rollback(ctx context.Context, u *undoLog, cause error) {
	a.log.Error("desired document rolled back", "seq", u.Seq, "why", oneLine(cause))
	var errs []error
	if a.slivers != nil {
		for i := len(u.Slivers) - 1; i >= 0; i-- {
			s := u.Slivers[i]
			if s.Old == nil {
				if err := a.slivers.Remove(ctx, s.Name); err != nil && !errors.Is(err, container.ErrNotFound) {
					errs = append(errs, fmt.Errorf("remove sliver %s: %w", s.Name, err))
				}
				a.setHeld(s.Name, "")
				continue
			}
			if err := a.applySliver(ctx, *s.Old); err != nil {
				errs = append(errs, err)
			}
		}
	}
	cfg := a.config()
	for _, f := range u.Files {
		path := filepath.Join(cfg.Policy.Dir, f.Name)
		var err error
		if f.Had {
			err = writeFileAtomic(path, f.Data, 0o644)
		} else if err = os.Remove(path); errors.Is(err, os.ErrNotExist) {
			err = nil
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(u.UCI) > 0 {
		if err := a.undoSettings(u.UCI); err != nil {
			errs = append(errs, err)
		} else if cfg, err := LoadConfig(a.cursor); err != nil {
			errs = append(errs, err)
		} else if err := a.reconfigure(ctx, cfg); err != nil {
			errs = append(errs, err)
		}
	}
	if len(u.Files) > 0 {
		if e := a.policyEngine(); e != nil {
			if err := e.Reload(); err != nil {
				a.log.Warn("policies after rollback", "err", oneLine(err))
			}
		}
	}
	if len(u.Slivers) > 0 {
		a.syncNetwork(ctx)
	}
	a.mu.Lock()
	held := a.remote.Held
	a.remote = u.Prev
	a.remote.Held = held
	a.remote.SeenSeq = max(a.remote.SeenSeq, u.Seq)
	rs := a.remote
	a.mu.Unlock()
	if err := a.saveRemote(rs); err != nil {
		errs = append(errs, err)
	}
	if err := a.store.clearPending(); err != nil {
		errs = append(errs, err)
	}
	msg := cause.Error()
	if err := errors.Join(errs...); err != nil {
		a.internalError("desired", fmt.Errorf("rollback of seq %d incomplete: %w", u.Seq, err))
		msg += "; rollback incomplete: " + oneLine(err)
	}
	a.addError("desired", u.Seq, msg)
	if u.Digest != "" {
		a.rememberRefused(u.Seq, u.Digest, msg)
	}
	a.remoteEvent("desired_rolled_back", "critical", u.Seq, msg)
}

// undoSettings restores the options an apply changed.
func (a *Agent) undoSettings(us []uciUndo) error {
	p, err := a.writer.LoadCommitted(Package)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	for i := len(us) - 1; i >= 0; i-- {
		u := us[i]
		if u.NewSection != "" {
			if err := p.Delete(u.Section, ""); err != nil && !errors.Is(err, uci.ErrNotFound) {
				return err
			}
			continue
		}
		ch := settingChange{section: u.Section, option: u.Option, value: wire.Setting{Values: u.Values, List: u.List, Delete: !u.Had}}
		if err := setOption(p, ch); err != nil {
			return fmt.Errorf("restore %s.%s: %w", u.Section, u.Option, err)
		}
	}
	if err := p.Commit(); err != nil {
		return fmt.Errorf("restore settings: %w", err)
	}
	return nil
}
