package uci

import (
	"fmt"
	"os"
	"os/exec"
	"time"
)

// helperEnv names the environment variable that makes the test binary act
// as a helper process (see runHelper), so that tests use real processes.
const helperEnv = "NODEKEEPER_UCI_HELPER"

// helperCmd returns a command running this test binary as helper mode.
func helperCmd(mode string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	return cmd
}

// runHelper is the main function of a helper process.
func runHelper(mode string, args []string) int {
	var err error
	switch mode {
	case "reader":
		err = helperReader(args[0], args[1], args[2], args[3])
	case "commit-stall":
		err = helperCommitStall(args[0], args[1], args[2])
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// helperReader reads package pkg of confDir as committed, over and over
// until the stop file appears: with the Go API and as raw file text, which
// must always parse strictly. The options of section "main" are only ever
// added, so their number must never go down. It prints the number of reads.
func helperReader(confDir, pkg, stop, section string) error {
	c := &Cursor{ConfDir: confDir, OverrideDir: "-"}
	last, reads := 0, 0
	for {
		_, stopErr := os.Stat(stop)
		p, err := c.LoadCommitted(pkg)
		if err != nil {
			return fmt.Errorf("read %d: %w", reads, err)
		}
		text, err := os.ReadFile(p.Path())
		if err != nil {
			return err
		}
		q, err := Parse(pkg, text)
		if err != nil {
			return fmt.Errorf("read %d: torn file? %w\n%s", reads, err, text)
		}
		for _, pk := range []*Package{p, q} {
			s := pk.Section(section)
			if s == nil {
				return fmt.Errorf("read %d: section %s missing", reads, section)
			}
			if n := len(s.Options()); n < last {
				return fmt.Errorf("read %d: %d options after %d: a change was lost", reads, n, last)
			} else {
				last = n
			}
		}
		reads++
		if stopErr == nil {
			fmt.Printf("reads=%d options=%d\n", reads, last)
			return nil
		}
	}
}

// helperCommitStall sets an option and commits, stopping for good halfway
// through writing the new file, so that the test can kill it there.
func helperCommitStall(confDir, saveDir, pkg string) error {
	c := &Cursor{ConfDir: confDir, SaveDir: saveDir, OverrideDir: "-"}
	p, err := c.Load(pkg)
	if err != nil {
		return err
	}
	if err := p.Set("main", "stalled", "yes"); err != nil {
		return err
	}
	commitHook = func() {
		fmt.Println("stalled")
		for {
			time.Sleep(time.Hour)
		}
	}
	return p.Commit()
}
