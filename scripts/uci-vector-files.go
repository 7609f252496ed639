//go:build ignore

// uci-vector-files writes the config files of UCI conformance vectors (the
// JSON cases described in uci/testdata/vectors/README.md) into one directory
// per case, for scripts/qemu-smoke.sh:
//
//	go run scripts/uci-vector-files.go -n 40 uci/testdata/vectors OUT
//
// It picks every targeted-* case and then the first cases of each other kind
// in name order until it has n, so the smoke run stays short.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	n := flag.Int("n", 40, "how many cases to write")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: uci-vector-files [-n N] VECTORDIR OUTDIR")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), *n); err != nil {
		fmt.Fprintln(os.Stderr, "uci-vector-files:", err)
		os.Exit(1)
	}
}

func run(dir, out string, n int) error {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	sort.Strings(paths)
	for _, p := range pick(paths, n) {
		var v struct {
			Files map[string]string `json:"files"`
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		caseDir := filepath.Join(out, strings.TrimSuffix(filepath.Base(p), ".json"))
		if err := os.MkdirAll(caseDir, 0o755); err != nil {
			return err
		}
		for pkg, text := range v.Files {
			if pkg == "" || strings.ContainsAny(pkg, `/\`) || pkg == "." || pkg == ".." {
				return fmt.Errorf("%s: bad package name %q", p, pkg)
			}
			if err := os.WriteFile(filepath.Join(caseDir, pkg), []byte(text), 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// pick returns the targeted-* cases first, then the other kinds (the name
// up to its first '-') in turn, one case of each per round, n in all.
func pick(paths []string, n int) []string {
	var out []string
	kinds := map[string][]string{}
	var order []string
	for _, p := range paths {
		base := filepath.Base(p)
		if strings.HasPrefix(base, "targeted-") {
			out = append(out, p)
			continue
		}
		k, _, _ := strings.Cut(base, "-")
		if _, ok := kinds[k]; !ok {
			order = append(order, k)
		}
		kinds[k] = append(kinds[k], p)
	}
	for len(out) < n {
		added := false
		for _, k := range order {
			if len(kinds[k]) > 0 && len(out) < n {
				out = append(out, kinds[k][0])
				kinds[k] = kinds[k][1:]
				added = true
			}
		}
		if !added {
			break
		}
	}
	if len(out) > n {
		out = out[:n]
	}
	return out
}
