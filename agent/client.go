package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/netcfg"
	"github.com/nodekeeper/nodekeeper/policy"
	"github.com/nodekeeper/nodekeeper/wire"
)

// ErrNoAgent is returned by DialControl when no agent listens on the
// control socket: the commands then work on their own.
var ErrNoAgent = errors.New("no agent is running")

// Client talks to a running agent over its control socket. Its sliver
// methods are those of a container.Manager, so the CLI uses either.
type Client struct {
	path string
}

// DialControl returns a client of the agent listening on path, or an error
// wrapping ErrNoAgent when none is.
func DialControl(path string) (*Client, error) {
	c, err := net.Dial("unix", path)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("control socket %s: %w", path, ErrNoAgent)
		}
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	c.Close()
	return &Client{path: path}, nil
}

// call sends one request (with files, for attach) and decodes the result
// into out.
func (c *Client) call(ctx context.Context, req controlRequest, files []*os.File, out any) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.path)
	if err != nil {
		return fmt.Errorf("control socket %s: %w", c.path, err)
	}
	uc := conn.(*net.UnixConn)
	defer uc.Close()
	stop := context.AfterFunc(ctx, func() { uc.Close() })
	defer stop()
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = syscall.UnixRights(fds...)
	}
	_, _, werr := uc.WriteMsgUnix(b, oob, nil)
	uc.CloseWrite()
	// Read the answer even when the write failed: the agent may have
	// answered (refused the client) before reading the request.
	var resp controlResponse
	if err := json.NewDecoder(uc).Decode(&resp); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if werr != nil {
			return fmt.Errorf("control socket: %w", werr)
		}
		return fmt.Errorf("control socket: no answer: %w", err)
	}
	if resp.Error != "" {
		return errors.New(resp.Error)
	}
	if out != nil && resp.Result != nil {
		return json.Unmarshal(resp.Result, out)
	}
	return nil
}

// Status returns the agent's status.
func (c *Client) Status(ctx context.Context) (wire.Status, error) {
	var s wire.Status
	err := c.call(ctx, controlRequest{Op: "status"}, nil, &s)
	return s, err
}

// Policies lists the loaded policies.
func (c *Client) Policies(ctx context.Context) ([]policy.Status, error) {
	var s []policy.Status
	err := c.call(ctx, controlRequest{Op: "policy.list"}, nil, &s)
	return s, err
}

// Network returns what netcfg owns in the agent's namespace.
func (c *Client) Network(ctx context.Context) (netcfg.Config, error) {
	var n netcfg.Config
	err := c.call(ctx, controlRequest{Op: "net.show"}, nil, &n)
	return n, err
}

// Sample returns the agent's latest telemetry document (JSON).
func (c *Client) Sample(ctx context.Context) (json.RawMessage, error) {
	var d json.RawMessage
	err := c.call(ctx, controlRequest{Op: "telemetry.sample"}, nil, &d)
	return d, err
}

// List reports every sliver.
func (c *Client) List(ctx context.Context) ([]container.Status, error) {
	var s []container.Status
	err := c.call(ctx, controlRequest{Op: "sliver.list"}, nil, &s)
	return s, err
}

// Get returns a sliver's record.
func (c *Client) Get(name string) (container.Sliver, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var s container.Sliver
	err := c.call(ctx, controlRequest{Op: "sliver.get", Name: name}, nil, &s)
	return s, err
}

// Create registers a sliver and moves it towards its request (held down
// to what the node state allows).
func (c *Client) Create(ctx context.Context, spec container.Spec) (container.Sliver, error) {
	var s container.Sliver
	err := c.call(ctx, controlRequest{Op: "sliver.create", Spec: &spec}, nil, &s)
	return s, err
}

// SetRequest asks a sliver for a state.
func (c *Client) SetRequest(ctx context.Context, name string, req container.Request) (container.Sliver, error) {
	var s container.Sliver
	err := c.call(ctx, controlRequest{Op: "sliver.set_request", Name: name, Request: req}, nil, &s)
	return s, err
}

// Remove takes a sliver down and forgets it.
func (c *Client) Remove(ctx context.Context, name string) error {
	return c.call(ctx, controlRequest{Op: "sliver.remove", Name: name}, nil, nil)
}

// Attach runs argv in a started sliver with the caller's streams (passed
// to the agent as file descriptors) and returns its exit status.
func (c *Client) Attach(ctx context.Context, name string, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	var files, ours []*os.File
	var wg sync.WaitGroup
	defer func() {
		for _, f := range ours {
			f.Close()
		}
		wg.Wait()
	}()
	in, err := fileFor(stdin, nil, &ours, &wg)
	if err != nil {
		return 0, err
	}
	out, err := fileFor(nil, stdout, &ours, &wg)
	if err != nil {
		return 0, err
	}
	errf, err := fileFor(nil, stderr, &ours, &wg)
	if err != nil {
		return 0, err
	}
	files = []*os.File{in, out, errf}
	var res struct {
		Code int `json:"code"`
	}
	err = c.call(ctx, controlRequest{Op: "sliver.attach", Name: name, Argv: argv}, files, &res)
	return res.Code, err
}

// fileFor returns a file to pass for a stream: the stream itself when it
// is a file, else one end of a pipe copied to or from it.
func fileFor(r io.Reader, w io.Writer, ours *[]*os.File, wg *sync.WaitGroup) (*os.File, error) {
	if f, ok := r.(*os.File); ok && r != nil {
		return f, nil
	}
	if f, ok := w.(*os.File); ok && w != nil {
		return f, nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	if r != nil {
		// The agent gets the read end. The copy is not waited for: reading
		// the caller's input may block for good.
		*ours = append(*ours, pr)
		go func() { io.Copy(pw, r); pw.Close() }()
		return pr, nil
	}
	if w == nil {
		w = io.Discard
	}
	*ours = append(*ours, pw)
	wg.Add(1)
	go func() { defer wg.Done(); io.Copy(w, pr); pr.Close() }()
	return pw, nil
}

// Close implements the sliver commands' interface; a Client holds nothing.
func (c *Client) Close() error { return nil }
