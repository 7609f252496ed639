package telemetry

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// startMetricsServer serves latest on a loopback port until the test ends.
func startMetricsServer(t *testing.T, s *metricsServer) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

// exchange sends req on a new connection and returns all it reads back
// until the server closes the connection.
func exchange(addr, req string) (string, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

func rawExchange(t *testing.T, addr, req string) string {
	t.Helper()
	got, err := exchange(addr, req)
	if err != nil {
		t.Fatalf("%.80q: %v (read %q)", req, err, got)
	}
	return got
}

// TestMetricsServer: the listener's small HTTP/1.1 answers each kind of
// request the way a scraper and a stray client expect.
func TestMetricsServer(t *testing.T) {
	var doc atomic.Pointer[Document]
	s := newMetricsServer(doc.Load)
	// An empty root: no /proc numbers that change between two scrapes.
	s.root, s.now = t.TempDir(), func() time.Time { return time.Unix(1764097485, 0) }
	addr := startMetricsServer(t, s)
	// Before the first sample.
	if got := rawExchange(t, addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 503 ") {
		t.Errorf("before a sample: %q, want 503", got)
	}
	doc.Store(sampleDoc())
	body := string(AppendPrometheus(nil, sampleDoc(), s.root, s.now()))
	tests := []struct {
		name, req  string
		status     string
		headers    []string
		body       string // "" when the answer has no body
		statusOnly bool   // the body is the status text
	}{
		{"scrape", "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\n", "200 OK",
			[]string{"Content-Type: text/plain; version=0.0.4; charset=utf-8", "Connection: close", "Content-Length: " + strconv.Itoa(len(body))}, body, false},
		{"HTTP/1.0, bare newlines", "GET /metrics HTTP/1.0\n\n", "200 OK", nil, body, false},
		{"query ignored", "GET /metrics?name[]=node_load1 HTTP/1.1\r\n\r\n", "200 OK", nil, body, false},
		{"absolute form", "GET http://router:9100/metrics HTTP/1.1\r\n\r\n", "200 OK", nil, body, false},
		{"HEAD: no body", "HEAD /metrics HTTP/1.1\r\n\r\n", "200 OK", []string{"Content-Length: " + strconv.Itoa(len(body))}, "", false},
		{"other path", "GET / HTTP/1.1\r\n\r\n", "404 Not Found", []string{"Connection: close"}, "", true},
		{"prefix of the path", "GET /metricsx HTTP/1.1\r\n\r\n", "404 Not Found", nil, "", true},
		{"POST", "POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", "405 Method Not Allowed", []string{"Allow: GET, HEAD"}, "", true},
		{"not HTTP", "hello\r\n\r\n", "400 Bad Request", nil, "", true},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "400 Bad Request", nil, "", true},
		{"header too large", "GET /metrics HTTP/1.1\r\nX-Big: " + strings.Repeat("a", metricsMaxHead) + "\r\n\r\n", "431 Request Header Fields Too Large", nil, "", true},
		{"too many headers", "GET /metrics HTTP/1.1\r\n" + strings.Repeat("X-A: b\r\n", metricsMaxHead/8) + "\r\n", "431 Request Header Fields Too Large", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rawExchange(t, addr, tt.req)
			head, rest, ok := strings.Cut(got, "\r\n\r\n")
			if !ok {
				t.Fatalf("answer has no end of headers: %q", got)
			}
			lines := strings.Split(head, "\r\n")
			if lines[0] != "HTTP/1.1 "+tt.status {
				t.Fatalf("status line %q, want HTTP/1.1 %s", lines[0], tt.status)
			}
			for _, h := range append(tt.headers, "Connection: close") {
				if !strings.Contains(head+"\r\n", "\r\n"+h+"\r\n") {
					t.Errorf("headers lack %q:\n%s", h, head)
				}
			}
			want := tt.body
			if tt.statusOnly {
				want = tt.status[:3] + " " + tt.status[4:] + "\n"
			}
			if rest != want {
				t.Errorf("body %.80q, want %.80q", rest, want)
			}
		})
	}
	// net/http as a client reads the same answers.
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != body || resp.ContentLength != int64(len(body)) {
		t.Errorf("net/http client: %s, %d bytes (Content-Length %d), want 200 and %d", resp.Status, len(b), resp.ContentLength, len(body))
	}
}

// TestMetricsServerLimits: a client that sends nothing is cut off after
// the timeout, connections past the cap are closed unanswered, and neither
// keeps a scrape from being served afterwards.
func TestMetricsServerLimits(t *testing.T) {
	s := newMetricsServer(sampleDoc)
	s.timeout, s.maxConns = 300*time.Millisecond, 1
	addr := startMetricsServer(t, s)
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	io.WriteString(idle, "GET /metrics HTTP/1.1\r\n") // never finishes its headers
	// The idle client holds the only slot, so a second connection is
	// closed without an answer (unless the idle one already timed out,
	// which a loaded machine may cause: then it is answered).
	if got, _ := exchange(addr, "GET /metrics HTTP/1.1\r\n\r\n"); got != "" && !strings.HasPrefix(got, "HTTP/1.1 200 ") {
		t.Errorf("second connection got %q, want nothing (or 200 after the idle one's timeout)", got)
	}
	idle.SetReadDeadline(time.Now().Add(30 * time.Second))
	if b, err := io.ReadAll(bufio.NewReader(idle)); err != nil || len(b) != 0 {
		t.Errorf("idle client: read %q, %v; want the server to close without an answer", b, err)
	}
	// The slot is free again.
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, _ := exchange(addr, "GET /metrics HTTP/1.1\r\n\r\n")
		if strings.HasPrefix(got, "HTTP/1.1 200 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scrape served after the idle client left: %q", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
