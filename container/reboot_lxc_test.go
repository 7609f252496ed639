package container

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestStoppedByReboot: a started sliver whose container is found stopped
// at start is a warning when it stopped while the host ran (a crash), and
// no news when the host restarted since the sliver started (every reboot
// of every router would warn). Either way the sliver is reported stopped
// and started again.
func TestStoppedByReboot(t *testing.T) {
	l := newLab(t)
	ctx := ctxT(t)
	name := "boot-" + randHex(6)
	m1, _ := l.open("")
	if _, err := m1.Create(ctx, Spec{Name: name, Template: l.busybox(), Request: Start}); err != nil {
		t.Fatal(err)
	}
	started := m1.Slivers()[0].Updated
	m1.Close()
	tests := []struct {
		name string
		boot func() time.Time
		warn bool
	}{
		{"stopped while the host ran", func() time.Time { return started.Add(-time.Hour) }, true},
		{"the host restarted since", time.Now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := l.driver().Stop(ctx, ContainerName(name), 0); err != nil {
				t.Fatal(err)
			}
			var logs strings.Builder
			cfg := l.config("")
			cfg.BootTime = tt.boot()
			cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
			octx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			m, rep, err := Open(octx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if len(rep.Stopped) != 1 || rep.Stopped[0] != name {
				t.Errorf("report %+v, want %s stopped", rep, name)
			}
			if warned := strings.Contains(logs.String(), "not running"); warned != tt.warn {
				t.Errorf("warning %v, want %v: %s", warned, tt.warn, logs.String())
			}
			if err := m.ConvergeAll(ctx); err != nil {
				t.Fatal(err)
			}
			wantState(t, m, name, Started)
		})
	}
	m, _ := l.open("")
	if err := m.Remove(ctx, name); err != nil {
		t.Error(err)
	}
}

// TestBootTime reads btime from a /proc/stat.
func TestBootTime(t *testing.T) {
	if got := bootTime("/proc/stat"); got.IsZero() || got.After(time.Now()) {
		t.Errorf("boot time of this host %v", got)
	}
	if got := bootTime("/nonexistent"); !got.IsZero() {
		t.Errorf("boot time without a file %v, want zero", got)
	}
}
