package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/nodekeeper/nodekeeper/fleet/webauth"
)

const passwdUsage = `usage: nodekeeper-fleet passwd FILE USER
Sets USER's password in FILE, the users file of serve --admin (an
htpasswd-style file of bcrypt hashes; created if missing, mode 0600,
rewritten atomically, other users' lines kept). The password is read from
the terminal without echo (asked twice), or else from the first line of
standard input.`

func init() {
	register(command{name: "passwd", summary: "set a web admin's password in a users file (bcrypt)", run: runPasswd})
}

func runPasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("passwd", flag.ContinueOnError)
	pos, st, done := parseFlags(fs, passwdUsage, args, stderr)
	if done {
		return st
	}
	if len(pos) != 2 {
		fmt.Fprintln(stderr, passwdUsage)
		return 2
	}
	file, user := pos[0], pos[1]
	if !webauth.ValidUser(user) {
		fmt.Fprintf(stderr, "nodekeeper-fleet passwd: user name %q: want 1-32 of letters, digits, '.', '_', '-', starting with a letter or digit\n", user)
		return 2
	}
	pw, err := readPassword(stdin, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet passwd: %v\n", err)
		return 1
	}
	if err := webauth.SetPassword(file, user, pw); err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet passwd: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "password of %s set in %s\n", user, file)
	return 0
}

// readPassword reads a password: from the terminal without echo, asked
// twice, when stdin is one; else the first line of stdin.
func readPassword(stdin io.Reader, stderr io.Writer) ([]byte, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return nil, fmt.Errorf("reading the password: %w", err)
		}
		fmt.Fprint(stderr, "again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return nil, fmt.Errorf("reading the password: %w", err)
		}
		if !bytes.Equal(a, b) {
			return nil, errors.New("the two passwords differ")
		}
		return a, nil
	}
	// One line, at most a little more than bcrypt uses.
	line, err := bufio.NewReaderSize(io.LimitReader(stdin, 1024), 1024).ReadSlice('\n')
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading the password from stdin: %w", err)
	}
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	if len(line) == 0 {
		return nil, errors.New("no password on stdin")
	}
	return line, nil
}
