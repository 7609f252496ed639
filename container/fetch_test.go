package container

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fetchServer serves body at /t.bin, 404 elsewhere, and at /stall sends
// part of an answer and then nothing until the test ends.
func fetchServer(t *testing.T, body []byte) *httptest.Server {
	t.Helper()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/t.bin":
			w.Write(body)
		case "/stall":
			w.Header().Set("Content-Length", "1000000")
			w.Write(body[:100])
			w.(http.Flusher).Flush()
			<-stop
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() { close(stop); srv.Close() })
	return srv
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestFetchTools downloads with each tool a router may have (busybox wget
// as on OpenWrt without uclient-fetch, GNU wget, curl): the archive is
// stored and verified, and a failure names the URL, the tool's exit status
// and what the tool said.
func TestFetchTools(t *testing.T) {
	body := make([]byte, 3<<20+17) // several pipe buffers
	rand.Read(body)
	srv := fetchServer(t, body)
	refused := "http://" + closedPort(t) + "/t.bin"
	tools := []struct {
		name     string
		command  []string
		notFound string // what the error says for a 404
	}{
		{"busybox wget", []string{"busybox", "wget", "-O", "-"}, "server returned error: HTTP/1.1 404 Not Found"},
		{"wget", DefaultFetchCommands[1], "exit status 8: HTTP request sent, awaiting response... 404 Not Found; "},
		{"curl", DefaultFetchCommands[2], "returned error: 404"},
	}
	for _, tool := range tools {
		t.Run(tool.name, func(t *testing.T) {
			_, err := exec.LookPath(tool.command[0])
			need(t, "needs "+tool.command[0], err)
			newTestCache := func(timeout time.Duration) *cache {
				c, err := newCache(t.TempDir(), &fetcher{command: tool.command, timeout: timeout}, 0, slog.New(slog.DiscardHandler))
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			c := newTestCache(time.Minute)
			p, err := c.data(context.Background(), Archive{URL: srv.URL + "/t.bin", SHA256: sha(body)})
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(p); !bytes.Equal(got, body) {
				t.Errorf("stored %d bytes, want the %d served", len(got), len(body))
			}
			failures := []struct {
				name, url string
				want      []string
				is        error
			}{
				{"404", srv.URL + "/nope.tar", []string{"exit status", tool.notFound}, nil},
				{"refused", refused, []string{"exit status"}, nil},
				{"checksum", srv.URL + "/t.bin", nil, ErrChecksum},
			}
			for _, f := range failures {
				t.Run(f.name, func(t *testing.T) {
					c := newTestCache(time.Minute)
					sum := sha(body)
					if f.is == ErrChecksum {
						sum = sha([]byte("other"))
					}
					_, err := c.data(context.Background(), Archive{URL: f.url, SHA256: sum})
					if err == nil {
						t.Fatal("no error")
					}
					msg := err.Error()
					for _, w := range append(f.want, f.url, tool.command[0]) {
						if f.is == nil && !strings.Contains(msg, w) {
							t.Errorf("error %q does not name %q", msg, w)
						}
					}
					if f.is != nil && !errors.Is(err, f.is) {
						t.Errorf("error %v, want %v", err, f.is)
					}
					if ents, _ := os.ReadDir(filepath.Join(c.dir, "tmp")); len(ents) != 0 {
						t.Errorf("tmp not empty after a failed download: %v", ents)
					}
				})
			}
			t.Run("timeout", func(t *testing.T) {
				c := newTestCache(500 * time.Millisecond)
				_, err := c.data(context.Background(), Archive{URL: srv.URL + "/stall", SHA256: sha(body)})
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("stalled download: %v, want the deadline", err)
				}
			})
			t.Run("cancel", func(t *testing.T) {
				c := newTestCache(time.Minute)
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(300*time.Millisecond, cancel)
				_, err := c.data(ctx, Archive{URL: srv.URL + "/stall", SHA256: sha(body)})
				if !errors.Is(err, context.Canceled) {
					t.Errorf("cancelled download: %v, want context.Canceled", err)
				}
			})
		})
	}
}

// TestFetchCommand: the first default tool in PATH is used, with the URL
// appended; a configured command wins; without any tool the error says
// which were looked for.
func TestFetchCommand(t *testing.T) {
	const url = "http://repo.example/t.tar.gz"
	stub := func(dir, name string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		have    []string
		command []string
		want    []string
		err     string
	}{
		{"OpenWrt", []string{"uclient-fetch", "wget", "curl"}, nil, []string{"uclient-fetch", "-T", "60", "-O", "-", url}, ""},
		{"wget", []string{"wget", "curl"}, nil, []string{"wget", "-O", "-", url}, ""},
		{"curl", []string{"curl"}, nil, []string{"curl", "-fsSL", "--globoff", "--connect-timeout", "60", "-o", "-", url}, ""},
		{"configured", []string{"uclient-fetch"}, []string{"curl", "--cacert", "/etc/ca.pem", "-o", "-"}, []string{"curl", "--cacert", "/etc/ca.pem", "-o", "-", url}, ""},
		{"none", nil, nil, nil, "none of uclient-fetch, wget, curl is in PATH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, n := range tt.have {
				stub(dir, n)
			}
			t.Setenv("PATH", dir)
			f := &fetcher{command: tt.command}
			got, err := f.tool(url)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("command %q %v, want %q", got, err, tt.want)
			}
			if tt.command != nil && len(tt.command) != len(tt.want)-1 {
				t.Errorf("the configured command was changed: %q", tt.command)
			}
		})
	}
	// A configured command gets the URL as its last argument, its output is
	// the archive, and its message and exit status make the error.
	silent := filepath.Join(t.TempDir(), "wget") // as GNU wget -q: no word
	if err := os.WriteFile(silent, []byte("#!/bin/sh\nexit 8\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		command []string
		out     string
		err     string
	}{
		{"URL appended", []string{"sh", "-c", `printf %s "$1"`, "sh"}, url, ""},
		{"tool fails", []string{"sh", "-c", `echo "cannot reach $1" >&2; exit 3`, "sh"}, "", "download with sh: exit status 3: cannot reach " + url},
		{"last lines of a long story", []string{"sh", "-c", `i=0; while [ $i -lt 2000 ]; do echo "progress $i" >&2; i=$((i+1)); done; printf 'last\n\n  error: gone\n' >&2; exit 1`, "sh"},
			"", "exit status 1: last; error: gone"},
		{"silent failure", []string{"sh", "-c", "exit 4", "sh"}, "", "exit status 4: (no message)"},
		{"silent wget", []string{silent}, "", "exit status 8: the server answered with an HTTP error"},
		{"missing program", []string{"/nonexistent/fetch"}, "", "download with /nonexistent/fetch: fork/exec"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := (&fetcher{command: tt.command, timeout: time.Minute}).fetch(context.Background(), url, &out)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if out.String() != tt.out {
				t.Errorf("output %q, want %q", out.String(), tt.out)
			}
		})
	}
}
