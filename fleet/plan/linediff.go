package plan

import (
	"bytes"
	"fmt"
	"io"
)

// WriteDiff writes a line diff of old and new ("-" removed, "+" added,
// with up to context unchanged lines around each change).
func WriteDiff(w io.Writer, old, new []byte, context int) {
	a := bytes.Split(bytes.TrimRight(old, "\n"), []byte("\n"))
	b := bytes.Split(bytes.TrimRight(new, "\n"), []byte("\n"))
	if len(old) == 0 {
		a = nil
	}
	// Longest common subsequence, by dynamic programming: documents are
	// small (a few hundred lines).
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if bytes.Equal(a[i], b[j]) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text []byte
	}
	var ops []line
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && bytes.Equal(a[i], b[j]):
			ops = append(ops, line{' ', a[i]})
			i++
			j++
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, line{'+', b[j]})
			j++
		default:
			ops = append(ops, line{'-', a[i]})
			i++
		}
	}
	near := make([]bool, len(ops))
	for k, o := range ops {
		if o.op != ' ' {
			for m := max(0, k-context); m <= min(len(ops)-1, k+context); m++ {
				near[m] = true
			}
		}
	}
	skipped := false
	for k, o := range ops {
		if !near[k] {
			skipped = true
			continue
		}
		if skipped {
			fmt.Fprintln(w, "    ...")
			skipped = false
		}
		fmt.Fprintf(w, "  %c %s\n", o.op, o.text)
	}
}
