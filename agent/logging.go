package agent

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// syslogPath is OpenWrt's logd socket (and every other syslog's).
const syslogPath = "/dev/log"

// newLogger returns the agent's logger at level: to syslog through
// /dev/log ("syslog"), to stderr ("stderr"), or to syslog when /dev/log
// takes datagrams and stderr otherwise ("auto").
func newLogger(target string, stderr io.Writer, level *slog.LevelVar) *slog.Logger {
	if target != "stderr" {
		if h, err := newSyslogHandler(syslogPath, level); err == nil {
			return slog.New(h)
		} else if target == "syslog" {
			fmt.Fprintf(stderr, "nodekeeper: syslog: %v: logging to stderr\n", err)
		}
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// parseLevel maps the UCI words onto slog levels.
func parseLevel(s string) slog.Level {
	switch s {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// syslogHandler formats records as slog's text handler does (without the
// time, which syslog adds) and sends each as one datagram with the
// record's priority, facility daemon.
type syslogHandler struct {
	text   slog.Handler
	shared *syslogConn
}

type syslogConn struct {
	mu   sync.Mutex
	path string
	conn net.Conn
	buf  bytes.Buffer
}

func (c *syslogConn) Write(p []byte) (int, error) { return c.buf.Write(p) }

func newSyslogHandler(path string, level *slog.LevelVar) (*syslogHandler, error) {
	conn, err := net.Dial("unixgram", path)
	if err != nil {
		return nil, err
	}
	sc := &syslogConn{path: path, conn: conn}
	text := slog.NewTextHandler(sc, &slog.HandlerOptions{Level: level, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
			return slog.Attr{}
		}
		return a
	}})
	return &syslogHandler{text: text, shared: sc}, nil
}

func (h *syslogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.text.Enabled(ctx, l)
}

func (h *syslogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &syslogHandler{text: h.text.WithAttrs(as), shared: h.shared}
}

func (h *syslogHandler) WithGroup(name string) slog.Handler {
	return &syslogHandler{text: h.text.WithGroup(name), shared: h.shared}
}

func (h *syslogHandler) Handle(ctx context.Context, r slog.Record) error {
	sev := 6 // info
	switch {
	case r.Level >= slog.LevelError:
		sev = 3
	case r.Level >= slog.LevelWarn:
		sev = 4
	case r.Level < slog.LevelInfo:
		sev = 7
	}
	c := h.shared
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Reset()
	fmt.Fprintf(&c.buf, "<%d>%s nodekeeper[%d]: ", 3<<3|sev, time.Now().Format(time.Stamp), os.Getpid())
	if err := h.text.Handle(ctx, r); err != nil {
		return err
	}
	msg := bytes.TrimRight(c.buf.Bytes(), "\n")
	if _, err := c.conn.Write(msg); err != nil {
		// logd restarted: dial again once.
		conn, derr := net.Dial("unixgram", c.path)
		if derr != nil {
			return err
		}
		c.conn.Close()
		c.conn = conn
		_, err = c.conn.Write(msg)
		return err
	}
	return nil
}

// oneLine renders an error (a joined one too) on one log line.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
