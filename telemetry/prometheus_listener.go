package telemetry

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// The Prometheus listener speaks just enough HTTP/1.1 for a scraper:
// GET or HEAD /metrics, one request per connection, answered with
// Connection: close. net/http would do the same for 1.8 MB more on a MIPS
// router (docs/packaging.md).
const (
	// metricsMaxHead caps a request's line and headers.
	metricsMaxHead = 8 << 10
	// metricsTimeout caps one connection: reading the request and writing
	// the answer.
	metricsTimeout = 10 * time.Second
	// metricsMaxConns caps the connections served at once; more are closed
	// unanswered.
	metricsMaxConns = 8
)

// metricsServer answers Prometheus scrapes with the latest document.
type metricsServer struct {
	latest   func() *Document
	root     string           // prefixed to /proc and /sys (Sources.Root)
	now      func() time.Time // the scrape's node_time_seconds
	timeout  time.Duration
	maxConns int
}

func newMetricsServer(latest func() *Document) *metricsServer {
	return &metricsServer{latest: latest, now: time.Now, timeout: metricsTimeout, maxConns: metricsMaxConns}
}

// serve accepts connections on ln until ctx ends, then closes ln, cuts the
// connections in progress short and returns once their handlers are done.
func (s *metricsServer) serve(ctx context.Context, ln net.Listener) {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, s.maxConns)
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors or the like: let it pass.
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		select {
		case slots <- struct{}{}:
		default:
			c.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			cut := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
			defer cut()
			s.handle(c)
		}()
	}
}

var (
	errHeadTooLarge = errors.New("request head too large")
	errMalformed    = errors.New("malformed request line")
)

// handle reads one request from c and answers it.
func (s *metricsServer) handle(c net.Conn) {
	defer lingeringClose(c)
	c.SetDeadline(time.Now().Add(s.timeout))
	method, path, err := readRequestHead(bufio.NewReaderSize(c, 1024))
	switch {
	case errors.Is(err, errHeadTooLarge):
		writeResponse(c, 431, "Request Header Fields Too Large", nil, false)
	case errors.Is(err, errMalformed):
		writeResponse(c, 400, "Bad Request", nil, false)
	case err != nil:
		// The client went away or took too long: nobody to answer.
	case path != "/metrics":
		writeResponse(c, 404, "Not Found", nil, method == "HEAD")
	case method != "GET" && method != "HEAD":
		writeResponse(c, 405, "Method Not Allowed", []string{"Allow: GET, HEAD"}, false)
	default:
		doc := s.latest()
		if doc == nil {
			writeResponse(c, 503, "Service Unavailable", nil, method == "HEAD")
			return
		}
		hdr := []string{"Content-Type: text/plain; version=0.0.4; charset=utf-8"}
		writeResponseBody(c, 200, "OK", hdr, AppendPrometheus(nil, doc, s.root, s.now()), method == "HEAD")
	}
}

// lingeringClose closes c after the client has read the answer: closed
// with unread request bytes (a body, an oversized head), the kernel would
// reset the connection and the client could lose the answer. It ends the
// writing side and reads what the client still sends, a bounded amount
// for at most a second.
func lingeringClose(c net.Conn) {
	defer c.Close()
	tc, ok := c.(*net.TCPConn)
	if !ok || tc.CloseWrite() != nil {
		return
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, io.LimitReader(c, 256<<10))
}

// readRequestHead reads a request line and its headers (which it skips)
// and returns the method and the path without its query.
func readRequestHead(r *bufio.Reader) (method, path string, err error) {
	total := 0
	line := func() ([]byte, error) {
		l, err := r.ReadSlice('\n')
		total += len(l)
		if errors.Is(err, bufio.ErrBufferFull) || total > metricsMaxHead {
			return nil, errHeadTooLarge
		}
		return bytes.TrimRight(l, "\r\n"), err
	}
	first, err := line()
	if err != nil {
		return "", "", err
	}
	parts := bytes.Split(first, []byte(" "))
	if len(parts) != 3 || len(parts[0]) == 0 || !bytes.HasPrefix(parts[2], []byte("HTTP/1.")) {
		return "", "", errMalformed
	}
	target := parts[1]
	if i := bytes.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	if bytes.HasPrefix(target, []byte("http://")) { // absolute form
		target = target[len("http://"):]
		if i := bytes.IndexByte(target, '/'); i >= 0 {
			target = target[i:]
		} else {
			target = []byte("/")
		}
	}
	method, path = string(parts[0]), string(target)
	for {
		l, err := line()
		if err != nil {
			return "", "", err
		}
		if len(l) == 0 {
			return method, path, nil
		}
	}
}

// writeResponse writes an answer whose body is its status text.
func writeResponse(c net.Conn, code int, text string, hdr []string, head bool) {
	writeResponseBody(c, code, text, append(hdr, "Content-Type: text/plain; charset=utf-8"),
		[]byte(strconv.Itoa(code)+" "+text+"\n"), head)
}

// writeResponseBody writes an answer; HEAD gets the headers only.
func writeResponseBody(c net.Conn, code int, text string, hdr []string, body []byte, head bool) {
	b := make([]byte, 0, 256+len(body))
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, text...)
	b = append(b, "\r\n"...)
	for _, h := range hdr {
		b = append(b, h...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\nConnection: close\r\n\r\n"...)
	if !head {
		b = append(b, body...)
	}
	c.Write(b)
}
