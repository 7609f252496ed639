package container

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// maxSteps bounds one converge: the longest path (started, redeploy, back
// to started) takes six steps.
const maxSteps = 12

// converge moves e one step at a time towards its requested state and
// returns where it ended, its record on disk. The error is that of a step
// that failed in this call. The caller holds e.op.
//
// The record is saved after every step but the allocate and deploy steps
// that another upward step follows at once: those states are noted and
// saved with the next one. The record on disk then lags behind, but only
// ever names the sliver and its request, and a crash leaves what
// reconcile and the next converge repair: a running container adopted,
// or a deployment taken down and built again (deploy tears down whatever
// it finds first).
func (m *Manager) converge(ctx context.Context, e *entry, retry bool) (Sliver, error) {
	s, err := m.steps(ctx, e, retry)
	if serr := m.saveNoted(e); serr != nil {
		return s, serr
	}
	return s, err
}

// steps is converge but for saving the last noted state.
func (m *Manager) steps(ctx context.Context, e *entry, retry bool) (Sliver, error) {
	for i := 0; i < maxSteps; i++ {
		m.mu.Lock()
		s := cloneSliver(e.s)
		m.mu.Unlock()
		st := nextStep(&s, retry)
		if st == stepNone {
			return s, nil
		}
		retry = false
		if err := ctx.Err(); err != nil {
			return s, fmt.Errorf("sliver %s: %w", s.Name, err)
		}
		from := s.State
		// A start's record is written and synced while lxc-start runs,
		// beside the files the deploy left to sync, and renamed into
		// place only if the start succeeds (store.prepare).
		pre := m.prepare(e, st)
		next, stepErr := m.do(ctx, &s, st)
		errText := ""
		if stepErr != nil {
			errText = stepErr.Error()
		}
		change := stepChange(st, next, errText)
		switch {
		case pre != nil && stepErr == nil:
			if err := m.commit(e, pre, change); err != nil {
				return s, err
			}
		case stepErr == nil && onTheWayUp(s, st, change):
			m.note(e, change)
		default:
			if pre != nil {
				pre.abort()
			}
			if err := m.publish(e, change); err != nil {
				return s, err
			}
		}
		if stepErr != nil {
			m.log.Warn("sliver step failed", "sliver", s.Name, "step", st, "from", from, "state", next, "err", stepErr)
			m.mu.Lock()
			s = cloneSliver(e.s)
			m.mu.Unlock()
			return s, fmt.Errorf("sliver %s: %s: %w", s.Name, next, stepErr)
		}
		m.log.Info("sliver step", "sliver", s.Name, "step", st, "from", from, "state", next)
	}
	s, _ := m.Get(e.s.Name)
	return s, fmt.Errorf("sliver %s: did not settle in %d steps (state %s, request %s)", s.Name, maxSteps, s.State, s.Request)
}

// stepChange is what step st, leading to next with the error errText,
// changes in a sliver's record.
func stepChange(st step, next State, errText string) func(*Sliver) {
	return func(r *Sliver) {
		r.State = next
		r.Error = errText
		if next == Deployed && st == stepDeploy {
			r.DeployedSN = r.InstanceSN
		}
		if next.level() < 2 {
			r.DeployedSN = 0
		}
	}
}

// prepare starts writing the record a successful start step leads to
// (started), with the files e waits for; nil for other steps and when
// records are not written. The caller holds e.op.
func (m *Manager) prepare(e *entry, st step) *prepared {
	if st != stepStart || m.cfg.ReadOnly {
		return nil
	}
	m.mu.Lock()
	want := cloneSliver(e.s)
	m.mu.Unlock()
	stepChange(st, Started, "")(&want)
	want.Updated = time.Now().UTC()
	p, err := m.store.prepare(&want, e.pending)
	if err != nil {
		return nil // the step's publish saves it, or says why not
	}
	p.updated = want.Updated
	return p
}

// commit puts the prepared record of a successful step in place and
// makes e's record what it says. A failed commit leaves the change in
// memory, unsaved, as publish does. The caller holds e.op.
func (m *Manager) commit(e *entry, p *prepared, change func(*Sliver)) error {
	err := p.commit()
	m.mu.Lock()
	change(&e.s)
	e.s.Updated = p.updated
	e.unsaved = err != nil
	m.mu.Unlock()
	if err == nil {
		e.pending = nil
	}
	return err
}

// onTheWayUp reports whether step st, having changed s by change, is an
// allocate or deploy that a deploy or start follows at once.
func onTheWayUp(s Sliver, st step, change func(*Sliver)) bool {
	if st != stepAllocate && st != stepDeploy {
		return false
	}
	change(&s)
	n := nextStep(&s, false)
	return n == stepDeploy || n == stepStart
}

// do performs one step and returns the state it leads to. A failing
// upward step leads to its fail_* state; a failing downward step leaves
// the state as it was.
func (m *Manager) do(ctx context.Context, s *Sliver, st step) (State, error) {
	ct := ContainerName(s.Name)
	switch st {
	case stepAllocate:
		if err := m.allocate(ctx, s); err != nil {
			return FailAllocate, err
		}
		return Allocated, nil
	case stepDeploy:
		if err := m.deploy(ctx, s); err != nil {
			if terr := m.teardown(ctx, s.Name); terr != nil {
				m.log.Warn("sliver: cleaning up a failed deploy", "sliver", s.Name, "err", terr)
			}
			return FailDeploy, err
		}
		return Deployed, nil
	case stepStart:
		if err := m.start(ctx, s); err != nil {
			if serr := m.driver.Stop(ctx, ct, m.cfg.StopTimeout); serr != nil {
				m.log.Warn("sliver: stopping after a failed start", "sliver", s.Name, "err", serr)
			}
			return FailStart, err
		}
		return Started, nil
	case stepStop:
		if err := m.driver.Stop(ctx, ct, m.cfg.StopTimeout); err != nil {
			return s.State, err
		}
		return Deployed, nil
	case stepUndeploy:
		if err := m.teardown(ctx, s.Name); err != nil {
			return s.State, err
		}
		return Allocated, nil
	case stepRelease:
		return Registered, nil
	case stepSettle:
		return settled(s.State), nil
	}
	return s.State, fmt.Errorf("unknown step %v", st)
}

// allocate checks the limits against the node and fetches and verifies
// the template and the data archive.
func (m *Manager) allocate(ctx context.Context, s *Sliver) error {
	// A record saved by an older version may hold what the grammar now
	// refuses: it goes no further.
	spec := cloneSliver(*s).Spec
	if err := spec.validate(); err != nil {
		return err
	}
	if err := m.checkCapacity(s); err != nil {
		return err
	}
	if _, err := m.PruneTemplates(); err != nil {
		m.log.Warn("template cache prune", "err", err)
	}
	if _, err := m.cache.template(ctx, s.Template); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	if s.Data != nil {
		if _, err := m.cache.data(ctx, *s.Data); err != nil {
			return fmt.Errorf("data archive: %w", err)
		}
	}
	return nil
}

// checkCapacity rejects limits this node can never honour, and interfaces
// it has no bridge for.
func (m *Manager) checkCapacity(s *Sliver) error {
	r := s.Resources
	if r.MemoryBytes > 0 {
		if r.MemoryBytes < minMemory {
			return fmt.Errorf("memory limit %s is below the %s a sliver needs", sizeString(r.MemoryBytes), sizeString(minMemory))
		}
		total, err := memTotal()
		if err != nil {
			return fmt.Errorf("memory limit: %w", err)
		}
		if r.MemoryBytes > total {
			return fmt.Errorf("memory limit %s exceeds the node's %s of RAM", sizeString(r.MemoryBytes), sizeString(total))
		}
	}
	if n := runtime.NumCPU(); r.CPUMillicores > n*1000 {
		return fmt.Errorf("cpu limit %d millicores exceeds the node's %d cores", r.CPUMillicores, n)
	}
	if r.DiskBytes > 0 {
		if r.DiskBytes < minDisk {
			return fmt.Errorf("disk limit %s is below the %s an ext4 image needs", sizeString(r.DiskBytes), sizeString(minDisk))
		}
		free, err := freeBytes(m.layersDir())
		if err != nil {
			return fmt.Errorf("disk limit: %w", err)
		}
		if r.DiskBytes > free {
			return fmt.Errorf("disk limit %s exceeds the %s free in %s", sizeString(r.DiskBytes), sizeString(free), m.layersDir())
		}
	}
	for i, ifc := range s.Interfaces {
		if _, err := m.network(s, i, ifc); err != nil {
			return err
		}
	}
	return nil
}

// start makes sure the writable layer is in place (a reboot unmounts disk
// images) and boots the container.
func (m *Manager) start(ctx context.Context, s *Sliver) error {
	if err := m.mountLayer(s); err != nil {
		return err
	}
	return m.driver.Start(ctx, ContainerName(s.Name))
}

// sizeString prints a byte count in binary units.
func sizeString(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.4g %ciB", v, units[i])
}
