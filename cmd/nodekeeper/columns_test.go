package main

import (
	"bytes"
	"strings"
	"testing"
	"text/tabwriter"
)

// TestColumns checks that columns prints what text/tabwriter, which it
// replaces, prints with the CLI's setting.
func TestColumns(t *testing.T) {
	for _, in := range []string{
		"",
		"no tabs\n",
		"node:\tn1\nstate:\tready\nagent:\tpid 1, up 3s\n",
		"a:\tx\nlonger key:\ty\n\nb:\tz\n",
		"  NAME\tSLICE\tID\tSTATE\n  s1\tslice-a\t1\trunning\n  sliver-two\tb\t22\tstopped\n",
		"a\tb\tc\nlong\tx\nq\tr\ts\tt\n",
		"one\ttwo\nno newline at the end\tz",
		"ünïcödé\tx\nab\ty\n",
		"a\t\tc\n\t\t\n",
		"v\vtab\fform feed\tx\n",
		"trailing tab\t\nx\ty\t\n",
	} {
		var want, got bytes.Buffer
		tw := tabwriter.NewWriter(&want, 0, 4, 2, ' ', 0)
		tw.Write([]byte(in))
		tw.Flush()
		c := newColumns(&got)
		c.Write([]byte(in))
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%q:\ngot  %q\nwant %q", in, got.String(), want.String())
		}
	}
	// In pieces, as fmt.Fprintf writes it.
	var want, got bytes.Buffer
	tw := tabwriter.NewWriter(&want, 0, 4, 2, ' ', 0)
	c := newColumns(&got)
	for _, p := range strings.SplitAfter("k:\tv\nkey two:\tv2\n", "\t") {
		tw.Write([]byte(p))
		c.Write([]byte(p))
	}
	tw.Flush()
	c.Flush()
	if got.String() != want.String() {
		t.Errorf("in pieces: got %q, want %q", got.String(), want.String())
	}
}
