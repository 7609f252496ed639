//go:build ignore

// size-report prints where the bytes of a Go binary go, for
// scripts/size-report.sh:
//
//	go run scripts/size-report.go [-top N] STRIPPED UNSTRIPPED
//
// STRIPPED is the binary as shipped, UNSTRIPPED the same build with its symbol
// table. Sizes are file bytes: only symbols in sections loaded from the file
// count (bss takes no flash, whatever type letter `go tool nm` gives it), per
// module, per Go package and per symbol; the sections table shows how much
// goes to code, read-only data and the function tables (.gopclntab).
package main

import (
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

const self = "github.com/nodekeeper/nodekeeper"

func main() {
	top := flag.Int("top", 20, "rows per table")
	name := flag.String("name", "", "what the binary is built for, for the title (default: its ELF machine)")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: size-report [-top N] [-name NAME] STRIPPED UNSTRIPPED")
		os.Exit(2)
	}
	if err := report(flag.Arg(0), flag.Arg(1), *name, *top); err != nil {
		fmt.Fprintln(os.Stderr, "size-report:", err)
		os.Exit(1)
	}
}

func report(strippedPath, fullPath, name string, top int) error {
	st, err := os.Stat(strippedPath)
	if err != nil {
		return err
	}
	f, err := elf.Open(fullPath)
	if err != nil {
		return err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return fmt.Errorf("%s: %w (build it without -s)", fullPath, err)
	}
	inFile := map[int]bool{} // section index -> loaded from the file
	var sections []row
	var loaded int64
	for i, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && s.Type != elf.SHT_NOBITS && s.Size > 0 {
			inFile[i] = true
			sections = append(sections, row{s.Name, int64(s.Size)})
			loaded += int64(s.Size)
		}
	}
	bymod, bypkg := map[string]int64{}, map[string]int64{}
	var symbols []row
	var total int64
	for _, s := range syms {
		if !inFile[int(s.Section)] || s.Size == 0 {
			continue
		}
		n := int64(s.Size)
		p := pkgOf(s.Name)
		bypkg[p] += n
		bymod[modOf(p)] += n
		symbols = append(symbols, row{s.Name, n})
		total += n
	}
	size := st.Size()
	if name == "" {
		name = strings.ToLower(strings.TrimPrefix(f.Machine.String(), "EM_"))
	}
	fmt.Printf("nodekeeper %s: %d bytes stripped; %d bytes in sized symbols, %d in function tables (.gopclntab), headers and padding\n",
		name, size, total, size-total)
	fmt.Printf("\nsections loaded from the file (%d bytes):\n", loaded)
	printRows(sections, size, len(sections))
	fmt.Println("\nby module (bytes, share of stripped binary):")
	printRows(rows(bymod), size, top)
	fmt.Println("\nby package:")
	printRows(rows(bypkg), size, top)
	fmt.Println("\nlargest symbols:")
	printRows(symbols, size, top)
	return nil
}

type row struct {
	name  string
	bytes int64
}

func rows(m map[string]int64) []row {
	var r []row
	for k, v := range m {
		r = append(r, row{k, v})
	}
	return r
}

func printRows(r []row, size int64, top int) {
	sort.Slice(r, func(i, j int) bool {
		if r[i].bytes != r[j].bytes {
			return r[i].bytes > r[j].bytes
		}
		return r[i].name < r[j].name
	})
	for i, x := range r {
		if i == top {
			break
		}
		fmt.Printf("%10d %5.1f%%  %s\n", x.bytes, 100*float64(x.bytes)/float64(size), x.name)
	}
}

// pkgOf returns the Go package a symbol belongs to.
func pkgOf(n string) string {
	n = strings.TrimPrefix(n, "type:")
	n = strings.TrimPrefix(n, "go:itab.")
	n = strings.TrimLeft(n, "*")
	n = strings.TrimPrefix(n, ".eq.")
	switch {
	case strings.HasPrefix(n, "go:"):
		return "(go: func and type metadata)"
	case strings.HasPrefix(n, "go.shape."), strings.HasPrefix(n, "struct {"), strings.HasPrefix(n, "."):
		return "(compiler-generated)"
	}
	p := n
	if i := strings.IndexAny(p, "([,"); i >= 0 {
		p = p[:i]
	}
	slash := strings.LastIndex(p, "/") + 1
	if dot := strings.Index(n[slash:], "."); dot >= 0 {
		n = n[:slash+dot]
	}
	// The linker escapes dots in the last element of a package path.
	return strings.ReplaceAll(n, "%2e", ".")
}

// modOf returns the module a package comes from, or "std".
func modOf(p string) string {
	switch {
	case strings.HasPrefix(p, "("):
		return p
	case p == "main" || p == self || strings.HasPrefix(p, self+"/"):
		return self
	}
	parts := strings.Split(p, "/")
	if !strings.Contains(parts[0], ".") {
		return "std"
	}
	if len(parts) >= 3 {
		return strings.Join(parts[:3], "/")
	}
	return p
}
