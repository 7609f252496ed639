package agent

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The syslog handler sends one datagram per record to /dev/log's kind of
// socket, with the priority of its level (facility daemon) and without a
// time of its own.
func TestSyslogHandler(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	level := new(slog.LevelVar)
	h, err := newSyslogHandler(path, level)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h).With("component", "test")
	log.Debug("not sent at level info")
	log.Info("hello", "k", "v w")
	log.Error("broken", "err", "x")
	level.Set(slog.LevelDebug)
	log.Debug("now sent")
	want := []string{
		"<30>", "nodekeeper[" + strconv.Itoa(os.Getpid()) + "]: msg=hello component=test k=\"v w\"",
		"<27>", "msg=broken component=test err=x",
		"<31>", "msg=\"now sent\"",
	}
	buf := make([]byte, 2048)
	for i := 0; i < len(want); i += 2 {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("datagram %d: %v", i/2, err)
		}
		got := string(buf[:n])
		if !strings.HasPrefix(got, want[i]) || !strings.Contains(got, want[i+1]) || strings.Contains(got, "time=") || strings.HasSuffix(got, "\n") {
			t.Errorf("datagram %q, want %s...%s", got, want[i], want[i+1])
		}
	}
}
