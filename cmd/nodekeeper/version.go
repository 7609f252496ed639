package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Set at link time: -ldflags "-X main.version=1.2.3 -X main.commit=abc123".
var (
	version = "dev"
	commit  = ""
)

func init() {
	register(command{
		name:    "version",
		summary: "print version, commit, Go version and architecture",
		run: func(args []string, _ io.Reader, stdout, stderr io.Writer) int {
			if len(args) != 0 {
				fmt.Fprintln(stderr, "usage: nodekeeper version")
				if len(args) == 1 && isHelp(args[0]) {
					return 0
				}
				return 2
			}
			fmt.Fprintf(stdout, "nodekeeper %s (commit %s, %s, %s/%s)\n",
				version, buildCommit(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return 0
		},
	})
}

// buildCommit returns the commit given at link time, else the one the Go
// toolchain stamped from the VCS, else "unknown".
func buildCommit() string {
	if commit != "" {
		return commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" && dirty {
			rev += "-dirty"
		}
		if rev != "" {
			return rev
		}
	}
	return "unknown"
}
