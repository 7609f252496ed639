package dir

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Fleet files are YAML, read with go.yaml.in/yaml/v3 twice: once strictly
// into Go types (KnownFields: a misspelt field is an error, not a silently
// ignored line), and once as a yaml.Node tree, which keeps the line of
// every key, so that the checks that come after decoding (a group that
// does not exist, a template without sha256) can say file:line too.

// lineRE finds the line yaml's own messages name ("line 3: ...").
var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// decodeFile reads one YAML file into v strictly and returns its node
// tree for lineOf. Problems go to c; ok is false if there were any.
func decodeFile(file string, data []byte, v any, c *problems) (root *yaml.Node, ok bool) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		addYAMLError(file, err, c)
		return nil, false
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		addYAMLError(file, err, c)
		return &n, false
	}
	return &n, true
}

// addYAMLError turns yaml's errors into Problems with a line.
func addYAMLError(file string, err error, c *problems) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		pos := Pos{File: file}
		if sm := lineRE.FindStringSubmatch(m); sm != nil {
			pos.Line, _ = strconv.Atoi(sm[1])
			m = sm[2]
		}
		m = friendlyYAML(m)
		c.add(pos, "%s", m)
	}
}

// friendlyYAML rewrites yaml's messages that name Go types.
func friendlyYAML(m string) string {
	if f, ok := strings.CutPrefix(m, "field "); ok {
		if name, _, ok := strings.Cut(f, " not found in type"); ok {
			return "unknown field " + strconv.Quote(name)
		}
	}
	if i := strings.Index(m, " into "); i > 0 && strings.HasPrefix(m, "cannot unmarshal") {
		return m[:i] + " here (wrong kind of value)"
	}
	return m
}

// lineOf returns the line of the value at path in a node tree (mapping
// keys, or decimal indexes into sequences), or of the deepest part of the
// path that exists; 0 if none does.
func lineOf(root *yaml.Node, path ...string) int {
	_, line := walk(root, path)
	return line
}

// nodeAt returns the node at path, or nil.
func nodeAt(root *yaml.Node, path ...string) *yaml.Node {
	n, _ := walk(root, path)
	return n
}

// walk follows path from root: the node reached (nil if the path does
// not exist whole) and the line of the deepest part found.
func walk(root *yaml.Node, path []string) (*yaml.Node, int) {
	if root == nil {
		return nil, 0
	}
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, p := range path {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					line = n.Content[i].Line
					next = n.Content[i+1]
					break
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(p); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
				line = next.Line
			}
		}
		if next == nil {
			return nil, line
		}
		n = next
	}
	return n, line
}
