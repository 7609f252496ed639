package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ctlAgent is an agent with nothing but its control socket at path.
func ctlAgent(t *testing.T, path string) (*Agent, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	a := &Agent{
		cfg: &Config{Agent: AgentConfig{ControlSocket: path}},
		log: slog.New(slog.NewTextHandler(logs, nil)),
	}
	return a, logs
}

// ask lists the policies through the control socket with the CLI's
// client and returns what the agent answered ("no policy engine" from
// these agents) or why no answer came.
func ask(path string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a hung socket fails the test instead of hanging it
	defer cancel()
	_, err := (&Client{path: path}).Policies(ctx)
	if err == nil {
		return "policies listed"
	}
	return err.Error()
}

// TestControlSocketSurvivesNoFiles: when the agent runs out of file
// descriptors, accept fails (EMFILE); the control socket serves again once
// descriptors are free, without a restart (finding 6: the accept loop
// used to end for good).
func TestControlSocketSurvivesNoFiles(t *testing.T) {
	requireEnv(t, os.Geteuid() == 0, "root")
	path := filepath.Join(t.TempDir(), "run", "control.sock")
	a, logs := ctlAgent(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := a.listenControl(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.closeControl()
	if e := ask(path); e != "no policy engine" {
		t.Fatalf("before: %q", e)
	}

	// Use up the descriptors: a low soft limit, filled with /dev/null.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	fds, _ := os.ReadDir("/proc/self/fd")
	low := lim
	low.Cur = uint64(len(fds) + 64)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	var filler []*os.File
	free := func() {
		for _, f := range filler {
			f.Close()
		}
		filler = nil
	}
	defer func() {
		free()
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}()
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) {
				t.Fatalf("filling descriptors: %v", err)
			}
			break
		}
		filler = append(filler, f)
	}
	// One descriptor for a client: the agent has none left to accept it.
	filler[len(filler)-1].Close()
	filler = filler[:len(filler)-1]
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial with the last descriptor: %v", err)
	}
	eventually(t, "the agent's accept fails for want of descriptors", 30*time.Second, func() error {
		if !strings.Contains(logs.String(), "too many open files") {
			return errors.New("no accept error logged yet")
		}
		return nil
	})
	c.Close()
	free()
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)

	// Descriptors are back: so is the socket.
	if e := ask(path); e != "no policy engine" {
		t.Fatalf("after the descriptors came back: %q; want the agent's answer\nlog:\n%s", e, logs.String())
	}
}

// TestControlSocketBounded: clients that connect and never send hold at
// most the connection limit, a further client is told the socket is busy,
// and the idle ones are dropped after the timeout, so the socket serves
// again by itself.
func TestControlSocketBounded(t *testing.T) {
	requireEnv(t, os.Geteuid() == 0, "root")
	tests := []struct {
		name    string
		timeout time.Duration
	}{
		{"idle clients hold every slot", time.Hour},
		{"idle clients are dropped", 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "control.sock")
			a, _ := ctlAgent(t, path)
			l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			const slots = 4
			go a.acceptControl(ctx, l, controlLimits{conns: slots, timeout: tt.timeout})
			var idle []net.Conn
			defer func() {
				for _, c := range idle {
					c.Close()
				}
			}()
			for range slots {
				c, err := net.Dial("unix", path)
				if err != nil {
					t.Fatal(err)
				}
				idle = append(idle, c)
			}
			if tt.timeout == time.Hour {
				// Accepted in order: the idle clients hold every slot.
				if e := ask(path); !strings.Contains(e, "busy") {
					t.Fatalf("a fifth client: %q; want busy", e)
				}
				return
			}
			for i, c := range idle {
				c.SetReadDeadline(time.Now().Add(30 * time.Second))
				if _, err := io.ReadAll(c); err != nil {
					t.Fatalf("idle client %d: %v; want the agent to close it", i, err)
				}
			}
			eventually(t, "served after the idle clients were dropped", 30*time.Second, func() error {
				if e := ask(path); e != "no policy engine" {
					return errors.New(e)
				}
				return nil
			})
		})
	}
}

// TestControlSocketPath: the socket's directory is made 0700 only when
// the agent makes it (agent.control_socket under /tmp once locked /tmp);
// what is at the path is removed only if it is a dead socket.
func TestControlSocketPath(t *testing.T) {
	requireEnv(t, os.Geteuid() == 0, "root")
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string) string // returns the socket path
		wantErr string
		dirMode os.FileMode
	}{
		{"new directory", func(t *testing.T, dir string) string {
			return filepath.Join(dir, "new", "control.sock")
		}, "", 0o700},
		{"shared directory keeps its mode", func(t *testing.T, dir string) string {
			shared := filepath.Join(dir, "tmp")
			os.Mkdir(shared, 0o755)
			os.Chmod(shared, 0o777|os.ModeSticky)
			return filepath.Join(shared, "control.sock")
		}, "", 0o777 | os.ModeSticky},
		{"a file at the path is not removed", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "precious")
			writeFile(t, p, "precious")
			return p
		}, "precious: not a socket: not removed", 0},
		{"a dead socket is replaced", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "control.sock")
			l, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			l.SetUnlinkOnClose(false)
			l.Close()
			return p
		}, "", 0},
		{"not a clean path", func(t *testing.T, dir string) string {
			return dir + "/x/../control.sock"
		}, "want an absolute clean path", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.setup(t, dir)
			a, _ := ctlAgent(t, path)
			err := a.listenControl(context.Background())
			defer a.closeControl()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if b, err := os.ReadFile(path); err == nil && string(b) != "precious" {
					t.Errorf("the file at the path changed: %q", b)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e := ask(path); e != "no policy engine" {
				t.Errorf("served: %q", e)
			}
			if tt.dirMode != 0 {
				fi, err := os.Stat(filepath.Dir(path))
				if got := fi.Mode() & (os.ModePerm | os.ModeSticky); err != nil || got != tt.dirMode {
					t.Errorf("directory mode %v, %v; want %v", got, err, tt.dirMode)
				}
			}
		})
	}
}
