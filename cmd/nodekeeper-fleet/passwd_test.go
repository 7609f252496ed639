package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodekeeper/nodekeeper/fleet/webauth"
)

// TestPasswd: the password comes from stdin's first line; the file is
// created 0600 and loads; bad arguments are refused before anything is
// written.
func TestPasswd(t *testing.T) {
	file := filepath.Join(t.TempDir(), "users")
	tests := []struct {
		name   string
		args   []string
		stdin  string
		status int
		want   string
	}{
		{"sets", []string{file, "alice"}, "s3cret\n", 0, "password of alice set in " + file},
		{"CRLF, no newline at the end", []string{file, "bob"}, "bobs\r\n", 0, "password of bob set"},
		{"empty", []string{file, "carol"}, "\n", 1, "no password on stdin"},
		{"too long", []string{file, "carol"}, strings.Repeat("x", 73) + "\n", 1, "bcrypt uses at most 72"},
		{"bad name", []string{file, "a:b"}, "x\n", 2, `user name "a:b"`},
		{"no user", []string{file}, "x\n", 2, "usage: nodekeeper-fleet passwd FILE USER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb strings.Builder
			st := dispatch(append([]string{"passwd"}, tt.args...), strings.NewReader(tt.stdin), &out, &errb)
			if st != tt.status || !strings.Contains(out.String()+errb.String(), tt.want) {
				t.Fatalf("status %d, out %q, err %q; want %d and %q", st, out.String(), errb.String(), tt.status, tt.want)
			}
		})
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%v, %v; want mode 0600", fi, err)
	}
	u, err := webauth.LoadUsers(file)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Check("alice", []byte("s3cret")) || !u.Check("bob", []byte("bobs")) || len(u.Names()) != 2 {
		t.Fatalf("users %v: passwords not as set", u.Names())
	}
}
