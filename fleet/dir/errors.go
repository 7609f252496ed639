package dir

import (
	"fmt"
	"strings"
)

// Pos is where something was written: a file (relative to the fleet
// directory) and a line (1-based; 0 when unknown).
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Problem is one error found in a fleet directory.
type Problem struct {
	Pos Pos
	Msg string
}

func (p Problem) Error() string { return p.Pos.String() + ": " + p.Msg }

// Problems are all the errors found in a fleet directory, in file order.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// maxProblems bounds what one load reports: past it, more are noise.
const maxProblems = 50

// problems collects Problems as a load goes.
type problems struct{ list Problems }

func (c *problems) add(pos Pos, format string, args ...any) {
	if len(c.list) < maxProblems {
		c.list = append(c.list, Problem{Pos: pos, Msg: fmt.Sprintf(format, args...)})
	}
}

func (c *problems) err() error {
	if len(c.list) == 0 {
		return nil
	}
	return c.list
}
