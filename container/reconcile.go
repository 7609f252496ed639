package container

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// reconcile compares the records with the driver's containers after a
// start (or a crash): running containers are adopted as started, missing
// ones are queued for a rebuild, orphans are reported. It changes records,
// never containers.
func (m *Manager) reconcile(ctx context.Context) (Report, error) {
	var rep Report
	names, err := m.driver.List(ctx)
	if err != nil {
		return rep, err
	}
	known := map[string]bool{}
	for _, s := range m.Slivers() {
		ct := ContainerName(s.Name)
		known[ct] = true
		in, err := m.driver.Info(ctx, ct)
		if err != nil && !errors.Is(err, ErrNoContainer) {
			return rep, fmt.Errorf("sliver %s: %w", s.Name, err)
		}
		var change func(*Sliver)
		switch {
		case errors.Is(err, ErrNoContainer):
			if s.State.level() < 2 {
				continue
			}
			rep.Rebuild = append(rep.Rebuild, s.Name)
			m.log.Warn("sliver's container is missing: it will be deployed again", "sliver", s.Name, "state", s.State)
			change = func(r *Sliver) { r.State, r.Error, r.DeployedSN = Allocated, "", 0 }
		case in.Running:
			rep.Adopted = append(rep.Adopted, s.Name)
			m.log.Info("sliver adopted", "sliver", s.Name, "pid", in.PID, "was", s.State)
			if s.State == Started {
				continue
			}
			mk, _ := m.layout(s.Name).readMarker()
			change = func(r *Sliver) { r.State, r.Error, r.DeployedSN = Started, "", mk.InstanceSN }
		case s.State == Started:
			rep.Stopped = append(rep.Stopped, s.Name)
			if s.Updated.Before(m.cfg.BootTime) {
				m.log.Info("sliver's container stopped with the host's restart", "sliver", s.Name, "started", s.Updated, "boot", m.cfg.BootTime)
			} else {
				m.log.Warn("sliver's container is not running", "sliver", s.Name, "container_state", in.State)
			}
			change = func(r *Sliver) { r.State = Deployed }
		default:
			continue
		}
		e, err := m.lookup(s.Name)
		if err != nil {
			return rep, err
		}
		if err := m.publish(e, change); err != nil {
			return rep, err
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, ContainerPrefix) && !known[n] {
			rep.Orphans = append(rep.Orphans, n)
			m.log.Warn("orphan container: no sliver record explains it; left alone", "container", n)
		}
	}
	return rep, nil
}
