package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
)

// The control socket serves `nodekeeper status`, `sliver ...`, `policy
// list`, `net show` and `telemetry sample` while the agent runs. It is a
// unix socket, mode 0600 in a 0700 directory, and the agent also checks
// that the client is root (SO_PEERCRED). One JSON request and one JSON
// response per connection; `sliver attach` passes the client's standard
// input, output and error along with its request (SCM_RIGHTS).

// controlRequest is one request on the control socket.
type controlRequest struct {
	Op      string            `json:"op"`
	Name    string            `json:"name,omitempty"`
	Spec    *container.Spec   `json:"spec,omitempty"`
	Request container.Request `json:"request,omitempty"`
	Argv    []string          `json:"argv,omitempty"`
}

// controlResponse is the answer: a result or an error.
type controlResponse struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// maxControlRequest bounds a request.
const maxControlRequest = 1 << 20

// ControlSocketPath returns the control socket the configuration in
// confDir names (agent.control_socket, or RUN_DIR/control.sock), or the
// default one when the configuration cannot be read.
func ControlSocketPath(confDir string) string {
	if confDir == "" {
		confDir = DefaultConfDir
	}
	def := filepath.Join(DefaultRunDir, "control.sock")
	p, err := cursorFor(confDir).LoadCommitted(Package)
	if err != nil {
		return def
	}
	secs := p.SectionsOfType("agent")
	if len(secs) == 0 {
		return def
	}
	if s, ok := secs[0].Get("control_socket"); ok {
		return s
	}
	if d, ok := secs[0].Get("run_dir"); ok {
		return filepath.Join(d, "control.sock")
	}
	return def
}

// controlLimits bound the control socket: connections served at once (a
// further one is answered "busy" and closed) and how long a client has to
// send its request and to take its answer.
type controlLimits struct {
	conns   int
	timeout time.Duration
}

var defaultControlLimits = controlLimits{conns: 16, timeout: 10 * time.Second}

var errBusy = errors.New("busy, try again")

// listenControl opens the control socket. Its directory is made 0700 when
// the agent makes it; a directory that was there (say /tmp) keeps its
// mode: the socket itself is 0600 and the agent checks the client. What
// is at the socket's path is removed only if it is a socket no agent
// answers on.
func (a *Agent) listenControl(ctx context.Context) error {
	path := a.config().Agent.ControlSocket
	l, err := listenSocket(path)
	if err != nil {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	a.mu.Lock()
	a.ctl = l
	a.mu.Unlock()
	go a.acceptControl(ctx, l, defaultControlLimits)
	return nil
}

// listenSocket listens on path, mode 0600, as listenControl says.
func listenSocket(path string) (*net.UnixListener, error) {
	if !cleanPath(path) || len(path) >= 108 {
		return nil, errors.New("want an absolute clean path under 108 bytes")
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		if err := os.Chmod(dir, 0o700); err != nil { // whatever the umask
			return nil, err
		}
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&fs.ModeSocket == 0 {
			return nil, errors.New("not a socket: not removed")
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, errors.New("another agent is running")
		}
		if err := os.Remove(path); err != nil { // left by an agent that died
			return nil, err
		}
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	l.SetUnlinkOnClose(true)
	return l, nil
}

// acceptControl serves l until it is closed. A failed accept (out of file
// descriptors: EMFILE, ENFILE) is retried after a pause, 5 ms doubling to
// 1 s as net/http's Server does, so the socket serves again once
// descriptors are free; it never ends the loop.
func (a *Agent) acceptControl(ctx context.Context, l *net.UnixListener, lim controlLimits) {
	slots := make(chan struct{}, lim.conns)
	var delay time.Duration
	for {
		c, err := l.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			a.log.Warn("control socket", "err", err) // and accept again
			time.Sleep(delay)                        // a close meanwhile ends the loop at the next accept
			continue
		}
		delay = 0
		select {
		case slots <- struct{}{}:
			go func() {
				a.serveControl(ctx, c, lim.timeout)
				<-slots
			}()
		default: // a short answer into an empty socket buffer: never blocks
			writeResponse(c, nil, errBusy)
			c.Close()
		}
	}
}

func (a *Agent) closeControl() {
	a.mu.Lock()
	l := a.ctl
	a.ctl = nil
	a.mu.Unlock()
	if l != nil {
		l.Close()
	}
}

// serveControl answers one connection. The client has timeout to send its
// request and to take the answer; the request itself (a sliver attach)
// may run longer.
func (a *Agent) serveControl(ctx context.Context, c *net.UnixConn, timeout time.Duration) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	uid, err := peerUID(c)
	if err != nil || uid != 0 {
		a.log.Warn("control socket: client refused: not root", "uid", uid, "err", err)
		writeResponse(c, nil, errors.New("permission denied: the control socket is root's"))
		return
	}
	buf := make([]byte, 4096)
	oob := make([]byte, syscall.CmsgSpace(3*4))
	n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
	files := receivedFiles(oob[:oobn])
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	if n == 0 && (err == nil || errors.Is(err, io.EOF)) {
		return // a probe: is an agent there?
	}
	if err != nil {
		return
	}
	rest, err := io.ReadAll(io.LimitReader(c, maxControlRequest))
	if err != nil {
		return
	}
	var req controlRequest
	if err := json.Unmarshal(append(buf[:n], rest...), &req); err != nil {
		writeResponse(c, nil, fmt.Errorf("bad request: %w", err))
		return
	}
	c.SetDeadline(time.Time{}) // the request (an attach) may take long
	res, err := a.control(ctx, req, files)
	c.SetWriteDeadline(time.Now().Add(timeout))
	writeResponse(c, res, err)
}

// receivedFiles turns the descriptors passed with a request into files.
func receivedFiles(oob []byte) []*os.File {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var files []*os.File
	for _, m := range msgs {
		fds, err := syscall.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			files = append(files, os.NewFile(uintptr(fd), fmt.Sprintf("client-fd-%d", len(files))))
		}
	}
	return files
}

func writeResponse(w io.Writer, res any, err error) {
	var r controlResponse
	if err != nil {
		r.Error = err.Error()
	} else if res != nil {
		b, merr := json.Marshal(res)
		if merr != nil {
			r.Error = merr.Error()
		}
		r.Result = b
	}
	json.NewEncoder(w).Encode(r)
}

// control carries out one request.
func (a *Agent) control(ctx context.Context, req controlRequest, files []*os.File) (any, error) {
	switch req.Op {
	case "status":
		return a.status(), nil
	case "policy.list":
		e := a.policyEngine()
		if e == nil {
			return nil, errors.New("no policy engine")
		}
		return a.policyList(e), nil
	case "net.show":
		n := a.network()
		if n == nil {
			return nil, a.networkMissing()
		}
		return n.Observe(ctx)
	case "telemetry.sample":
		pub := a.publisher()
		if pub == nil {
			return nil, errors.New("no sample taken yet")
		}
		return pub.First(ctx)
	}
	if a.slivers == nil {
		return nil, fmt.Errorf("%s: %w", req.Op, a.sliversErr)
	}
	m := a.slivers
	switch req.Op {
	case "sliver.get", "sliver.set_request", "sliver.remove", "sliver.attach":
		// Checked before it is looked up, remembered (held) or quoted.
		if err := container.CheckName(req.Name); err != nil {
			return nil, fmt.Errorf("%s: %w", req.Op, err)
		}
	}
	switch req.Op {
	case "sliver.list":
		return m.List(ctx)
	case "sliver.get":
		return m.Get(req.Name)
	case "sliver.create":
		if req.Spec == nil {
			return nil, errors.New("sliver.create: no spec")
		}
		spec := *req.Spec
		// The whole spec is checked before anything of it is kept: a
		// refused spec leaves no held request behind.
		if err := spec.Validate(); err != nil {
			return nil, fmt.Errorf("sliver.create: %w", err)
		}
		want := spec.Request
		spec.Request = capRequest(want, a.nodeState())
		s, err := m.Create(ctx, spec)
		if spec.Request != want && !errors.Is(err, container.ErrExists) {
			if _, gerr := m.Get(spec.Name); gerr == nil { // registered, even if it failed later
				a.setHeld(spec.Name, want)
			}
		}
		a.markDirty()
		return s, err
	case "sliver.set_request":
		if _, err := container.ParseRequest(string(req.Request)); err != nil {
			return nil, fmt.Errorf("sliver.set_request: %w", err)
		}
		if st := a.nodeState(); capRequest(req.Request, st) != req.Request {
			return nil, fmt.Errorf("sliver %s: %w (node state %s)", req.Name, errNodeState, st)
		}
		a.setHeld(req.Name, "")
		s, err := m.SetRequest(ctx, req.Name, req.Request)
		a.markDirty()
		return s, err
	case "sliver.remove":
		err := m.Remove(ctx, req.Name)
		a.setHeld(req.Name, "")
		a.markDirty()
		return nil, err
	case "sliver.attach":
		if len(files) != 3 {
			return nil, errors.New("sliver.attach: the client's stdin, stdout and stderr must come with the request")
		}
		code, err := m.Attach(ctx, req.Name, req.Argv, files[0], files[1], files[2])
		return map[string]int{"code": code}, err
	}
	return nil, fmt.Errorf("unknown request %q", boundText(req.Op, 32))
}
