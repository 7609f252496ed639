package main

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"
)

// columns aligns tab-separated cells as text/tabwriter does with
// NewWriter(w, 0, 4, 2, ' ', 0), the one setting the CLI uses: each cell
// ends with a tab, the text after a line's last tab is not aligned, and a
// column is as wide as its widest cell plus two spaces over each run of
// lines that have a cell in it. Vertical tabs count as tabs; a form feed
// ends a line and the column blocks; unlike tabwriter, the byte 0xff is
// not an escape (status text is UTF-8). text/tabwriter is 11 KB on mips
// (docs/packaging.md).
type columns struct {
	w   io.Writer
	buf bytes.Buffer
}

func newColumns(w io.Writer) *columns { return &columns{w: w} }

// Write buffers p until Flush.
func (c *columns) Write(p []byte) (int, error) { return c.buf.Write(p) }

// Flush writes the buffered lines, aligned.
func (c *columns) Flush() error {
	text := strings.ReplaceAll(c.buf.String(), "\v", "\t")
	c.buf.Reset()
	var out strings.Builder
	// A form feed ends a line and every column block, as in tabwriter.
	for _, seg := range strings.SplitAfter(text, "\f") {
		align(&out, strings.ReplaceAll(seg, "\f", "\n"))
	}
	_, err := io.WriteString(c.w, out.String())
	return err
}

// align writes text to out with its columns aligned.
func align(out *strings.Builder, text string) {
	var lines [][]string
	for _, l := range strings.SplitAfter(text, "\n") {
		if l != "" {
			lines = append(lines, strings.Split(strings.TrimSuffix(l, "\n"), "\t"))
		}
	}
	widths := make([][]int, len(lines)) // widths[i][j]: column j's width on line i
	setWidths(lines, widths, 0, 0, len(lines))
	for i, cells := range lines {
		for j, cell := range cells {
			out.WriteString(cell)
			if j < len(widths[i]) {
				out.WriteString(strings.Repeat(" ", widths[i][j]-utf8.RuneCountInString(cell)))
			}
		}
		if i+1 < len(lines) || strings.HasSuffix(text, "\n") {
			out.WriteByte('\n')
		}
	}
}

// setWidths sets the width of column col, and of the columns right of it,
// on lines [from, to), as text/tabwriter's format does: a block of
// consecutive lines that have a tab-terminated cell in col shares one
// width.
func setWidths(lines [][]string, widths [][]int, col, from, to int) {
	for i := from; i < to; {
		if col >= len(lines[i])-1 {
			i++
			continue
		}
		end, width := i, 0
		for ; end < to && col < len(lines[end])-1; end++ {
			width = max(width, utf8.RuneCountInString(lines[end][col])+2)
		}
		for k := i; k < end; k++ {
			widths[k] = append(widths[k], width)
		}
		setWidths(lines, widths, col+1, i, end)
		i = end
	}
}
