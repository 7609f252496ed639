package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// DefaultFetchCommands are the download tools tried, in order, when
// Config.FetchCommand is empty: the first whose program is in PATH is
// used, with these arguments and the URL appended. uclient-fetch is
// OpenWrt's (https with libustream-ssl); wget may be GNU wget, busybox's
// or OpenWrt's uclient-fetch under that name; curl follows redirects and
// fails on HTTP errors with -fL. wget gets no -T (busybox may lack it) and
// neither wget nor uclient-fetch gets -q, which keeps GNU wget (and maybe
// uclient-fetch) from saying which HTTP error it got: the last lines of
// what a tool writes to stderr go into the error.
var DefaultFetchCommands = [][]string{
	{"uclient-fetch", "-T", "60", "-O", "-"},
	{"wget", "-O", "-"},
	{"curl", "-fsSL", "--globoff", "--connect-timeout", "60", "-o", "-"},
}

// DefaultFetchTimeout caps one download.
const DefaultFetchTimeout = 10 * time.Minute

// fetcher downloads http(s) archives with an external command: a router
// has one that speaks https already, and net/http with crypto/tls would
// cost the binary about 2 MB (docs/packaging.md).
type fetcher struct {
	// command is the tool and its arguments, the URL appended; it writes
	// the archive to stdout and exits non-zero on failure. Empty: the
	// first of DefaultFetchCommands in PATH.
	command []string
	timeout time.Duration
	// max is the most bytes a download or a local copy may give
	// (Config.MaxArchiveBytes).
	max int64
}

// tool returns the command to run for url.
func (f *fetcher) tool(url string) ([]string, error) {
	if len(f.command) > 0 {
		return append(f.command[:len(f.command):len(f.command)], url), nil
	}
	names := make([]string, 0, len(DefaultFetchCommands))
	for _, c := range DefaultFetchCommands {
		if _, err := exec.LookPath(c[0]); err == nil {
			return append(c[:len(c):len(c)], url), nil
		}
		names = append(names, c[0])
	}
	return nil, fmt.Errorf("no download tool for http(s) templates: none of %s is in PATH (on OpenWrt: opkg install uclient-fetch)", strings.Join(names, ", "))
}

// fetch downloads url into w.
func (f *fetcher) fetch(ctx context.Context, url string, w io.Writer) error {
	argv, err := f.tool(url)
	if err != nil {
		return err
	}
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = 5 * time.Second // a child of the tool holding the pipes open
	stderr := &tailBuffer{max: 4096}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("download with %s: %w", argv[0], err)
	}
	cerr := copyLimited(w, out, f.max)
	if cerr != nil {
		cmd.Process.Kill()
	}
	werr := cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("download with %s: %w", argv[0], context.Cause(ctx))
	case cerr != nil:
		return fmt.Errorf("download with %s: storing: %w", argv[0], cerr)
	case werr != nil:
		msg := stderr.lastLines(2)
		var ee *exec.ExitError
		if errors.As(werr, &ee) && msg == "" {
			msg = wgetExitMeaning(argv[0], ee.ExitCode())
		}
		if msg == "" {
			msg = "(no message)"
		}
		return fmt.Errorf("download with %s: %w: %s", argv[0], werr, msg)
	}
	return nil
}

// wgetExitMeaning explains the exit statuses of GNU wget (and
// uclient-fetch, which copies them), for a tool that said nothing.
func wgetExitMeaning(tool string, code int) string {
	switch filepath.Base(tool) {
	case "wget", "uclient-fetch":
	default:
		return ""
	}
	return map[int]string{
		3: "file I/O error",
		4: "network failure",
		5: "TLS certificate verification failure",
		6: "authentication failure",
		7: "protocol error",
		8: "the server answered with an HTTP error",
	}[code]
}

// tailBuffer keeps the last max bytes written to it (a tool's progress
// output comes first, its error last).
type tailBuffer struct {
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

// lastLines returns the last n non-empty lines, joined by "; ".
func (t *tailBuffer) lastLines(n int) string {
	var lines []string
	for _, l := range strings.Split(string(t.b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines[max(0, len(lines)-n):], "; ")
}
