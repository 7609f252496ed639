package webauth

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLoadUsers: bcrypt lines of every prefix load; any other hash kind,
// a bad name, a file others may read or write, a FIFO are refused with
// where and why, never quoting a hash.
func TestLoadUsers(t *testing.T) {
	good := hash(t, "pw", "$2y$")
	tests := []struct {
		name, text string
		mode       os.FileMode
		wantErr    string // "" loads
		wantUsers  int
	}{
		{"three bcrypt kinds, comments, CRLF", "# admins\n\nalice:" + hash(t, "a", "$2a$") + "\r\nbob:" + hash(t, "b", "$2b$") + "\ncarol:" + good + "\n", 0o600, "", 3},
		{"group-readable", "alice:" + good, 0o640, "", 1},
		{"MD5 apr1", "alice:" + good + "\nbob:$apr1$abcdefgh$0123456789abcdefghijkl\n", 0o600, "users:2: user bob: an MD5 hash; only bcrypt", 0},
		{"SHA-1", "bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", 0o600, "users:1: user bob: a SHA-1 hash", 0},
		{"SHA-512 crypt", "bob:$6$salt$abc", 0o600, "users:1: user bob: a SHA-crypt hash", 0},
		{"DES crypt", "bob:abJnggxhB/yWI", 0o600, "users:1: user bob: a DES crypt hash or a plain-text password", 0},
		{"plain text", "bob:hunter2hunter2", 0o600, "users:1: user bob: a plain-text password", 0},
		{"2x", "bob:$2x$" + good[4:], 0o600, "buggy $2x$", 0},
		{"truncated bcrypt", "bob:" + good[:40], 0o600, "users:1: user bob: not a well-formed bcrypt hash", 0},
		{"no colon", "alice " + good, 0o600, "users:1: want user:bcrypt-hash", 0},
		{"bad name", "al ice:" + good, 0o600, `users:1: user name "al ice"`, 0},
		{"name starting with a dash", "-alice:" + good, 0o600, `users:1: user name "-alice"`, 0},
		{"duplicate", "alice:" + good + "\nalice:" + good, 0o600, "users:2: user alice a second time", 0},
		{"empty", "# nobody\n", 0o600, "no users", 0},
		{"world-readable", "alice:" + good, 0o644, "mode 0644 lets others read or change it: chmod 600", 0},
		{"group-writable", "alice:" + good, 0o660, "mode 0660", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "users")
			if err := os.WriteFile(p, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, tt.mode); err != nil {
				t.Fatal(err)
			}
			u, err := LoadUsers(p)
			if tt.wantErr == "" {
				if err != nil || len(u.Names()) != tt.wantUsers {
					t.Fatalf("got %v, %v; want %d users", u, err, tt.wantUsers)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v; want one saying %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), good[7:]) || strings.Contains(err.Error(), "0123456789abcdef") {
				t.Errorf("the error quotes a hash: %v", err)
			}
		})
	}
	t.Run("fifo", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "users")
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadUsers(p); err == nil || !strings.Contains(err.Error(), "not a regular file (fifo)") {
			t.Fatalf("got %v; want a refusal of the fifo", err)
		}
	})
}

// TestCheck: the right password passes; a wrong one, an unknown user, an
// empty or overlong password do not.
func TestCheck(t *testing.T) {
	u, err := LoadUsers(writeUsers(t, "alice:"+hash(t, "secret", "$2y$")+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user, pw string
		want     bool
	}{
		{"alice", "secret", true},
		{"alice", "Secret", false},
		{"alice", "", false},
		{"alice", "secret" + strings.Repeat("x", 80), false},
		{"mallory", "secret", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := u.Check(tt.user, []byte(tt.pw)); got != tt.want {
			t.Errorf("Check(%q, %q) = %v; want %v", tt.user, tt.pw, got, tt.want)
		}
	}
}

// TestSetPassword: a new file is created with mode 0600; a second user is
// added and a first one's password replaced, other lines kept; a file
// LoadUsers would refuse is not rewritten.
func TestSetPassword(t *testing.T) {
	p := filepath.Join(t.TempDir(), "users")
	if err := SetPassword(p, "alice", []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(mustRead(t, p), "# a comment\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SetPassword(p, "bob", []byte("bobs")); err != nil {
		t.Fatal(err)
	}
	if err := SetPassword(p, "alice", []byte("second")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stat: %v, %v; want mode 0600", fi, err)
	}
	text := string(mustRead(t, p))
	if !strings.HasPrefix(text, "alice:$2") || !strings.Contains(text, "\n# a comment\nbob:$2") {
		t.Fatalf("file:\n%s", text)
	}
	u, err := LoadUsers(p)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Check("alice", []byte("second")) || u.Check("alice", []byte("first")) || !u.Check("bob", []byte("bobs")) {
		t.Fatal("passwords not as set")
	}
	if err := SetPassword(p, "bad name", []byte("x")); err == nil {
		t.Error("a bad name was accepted")
	}
	if err := SetPassword(p, "carol", []byte(strings.Repeat("x", 73))); err == nil {
		t.Error("a 73-byte password was accepted")
	}
	md5 := writeUsers(t, "bob:$apr1$abcdefgh$0123456789abcdefghijkl\n")
	if err := SetPassword(md5, "alice", []byte("x")); err == nil || !strings.Contains(err.Error(), "MD5") {
		t.Errorf("a file with an MD5 line: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(p)); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
