package uci

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Positions follow libuci: Line counts newline-terminated lines read, Byte
// is the parser's offset in the logical line when it gave up.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text string
		line, byte int
		reason     string
	}{
		{"unknown command", "config a 'x'\n\toption v 1\nbogus line\n", 3, 0, "invalid command"},
		{"option first", "option x 1\n", 1, 0, "option/list command found before the first section"},
		{"keyword alone", "config\n", 1, 0, "invalid command"},
		{"unterminated quote", "config a 'x'\n\toption v 'open\n", 2, 16, "EOF with unterminated '"},
		{"unterminated double quote", "config a 'x'\n\toption v \"open\n", 2, 16, `EOF with unterminated "`},
		{"bad type", "config 'a b' x\n", 1, 13, "invalid character in type field"},
		{"bad option name", "config a 'x'\n\toption bad-name 1\n", 2, 17, "invalid character in name field"},
		{"type clash", "config a 'x'\nconfig b 'x'\n", 2, 13, "section of different type overwrites prior section with same name"},
		{"extra argument", "config a 'x' extra\n", 1, 19, "too many arguments"},
		{"no package name", "config a 'x'\npackage\n", 2, 0, "invalid command"},
		{"missing type", "config a 'x'\nconfig \n", 2, 8, "insufficient arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("net", []byte(tt.text))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *ParseError", err)
			}
			if pe.Line != tt.line || pe.Byte != tt.byte || pe.Reason != tt.reason {
				t.Errorf("got line %d byte %d %q, want line %d byte %d %q", pe.Line, pe.Byte, pe.Reason, tt.line, tt.byte, tt.reason)
			}
			if !errors.Is(err, ErrParse) {
				t.Error("error does not match ErrParse")
			}
		})
	}
}

func TestLaxSkipsBadLines(t *testing.T) {
	var skipped []error
	c := &Cursor{Lax: true, warn: func(err error) { skipped = append(skipped, err) }}
	p, err := c.parse([]byte("config a 'x'\nbogus\nconfig b 'y' extra\nconfig b 'x'\n\toption v 1\n"), "f", "net")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	exportPackage(&b, p, true, false)
	want := "package net\n\nconfig b 'x'\n\toption v '1'\n\nconfig b 'y'\n\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	if len(skipped) != 1 {
		t.Errorf("skipped %v, want the bogus line only", skipped)
	}
}

// Bad input: the command fails with status 1, names file, line and byte,
// and leaves every file as it was.
func TestBadInputChangesNothing(t *testing.T) {
	dir := t.TempDir()
	conf, save := filepath.Join(dir, "config"), filepath.Join(dir, "save")
	for _, d := range []string{conf, save} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	good := "config iface 'lan'\n\toption proto 'static'\n"
	cfg := filepath.Join(conf, "net")
	write(t, cfg, good)
	uci := func(stdin string, args ...string) (string, string, int) {
		return runUCI(t, stdin, append([]string{"-c", conf, "-t", save, "-C", filepath.Join(dir, "none")}, args...)...)
	}
	if _, errs, code := uci("", "set", "net.lan.proto=dhcp"); code != 0 {
		t.Fatalf("set: %d %s", code, errs)
	}
	staged := read(t, filepath.Join(save, "net"))
	bad := good + "\toption mtu '1500\n"
	write(t, cfg, bad)

	tests := []struct {
		name, stdin string
		args        []string
		where       string
	}{
		{"show", "", []string{"show", "net"}, "at line 3, byte 18 in " + cfg},
		{"set", "", []string{"set", "net.lan.mtu=1400"}, "at line 3, byte 18 in " + cfg},
		{"commit", "", []string{"commit", "net"}, "at line 3, byte 18 in " + cfg},
		{"add", "", []string{"add", "net", "iface"}, "at line 3, byte 18 in " + cfg},
		{"import", "config a\n\tbogus\n", []string{"import", "other"}, "(invalid command) at line 2, byte 1 in standard input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, code := uci(tt.stdin, tt.args...)
			wantCode := 1
			if tt.name == "add" {
				wantCode = codeParse // uci's add exits with libuci's error code
			}
			if code != wantCode {
				t.Errorf("exit %d, want %d", code, wantCode)
			}
			if !strings.HasPrefix(errs, "uci: Parse error (") || !strings.Contains(errs, tt.where) {
				t.Errorf("stderr %q lacks %q", errs, tt.where)
			}
			if got := read(t, cfg); got != bad {
				t.Errorf("config changed to %q", got)
			}
			if got := read(t, filepath.Join(save, "net")); got != staged {
				t.Errorf("staged changes changed to %q", got)
			}
			if _, err := os.Stat(filepath.Join(conf, "other")); err == nil {
				t.Error("failed import created a file")
			}
		})
	}
}

func write(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
