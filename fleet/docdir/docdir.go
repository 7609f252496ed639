// Package docdir builds one node's desired document from a directory, so
// that an admin writes Lua as Lua and slivers as files instead of JSON
// strings inside JSON:
//
//	policies/*.lua   the policy files (present: the whole truth for policies)
//	slivers/*.json   one sliver spec a file (docs/slivers.md)
//	settings.json    {"SECTION.OPTION": "value" | ["a", "b"] | null, ...}
//	node_state       optional: production, safe or debug
//
// Every part is checked as the node checks it: policy files in the
// sandboxed worker under the node's budgets, sliver specs by the
// container package's rules, the whole by wire.ParseDesired.
package docdir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/wire"
)

// Options change a build.
type Options struct {
	// Seq is the document's seq; 0 leaves it out (push --seq auto sets it).
	Seq uint64
	// CheckPolicies checks policy files as the node does (see
	// dir.CheckPoliciesWith); nil skips that check.
	CheckPolicies func(files []string) []string
}

// document is the desired document as built (field order as docs/remote.md).
type document struct {
	Node      string                  `json:"node"`
	Seq       uint64                  `json:"seq,omitempty"`
	NodeState string                  `json:"node_state,omitempty"`
	Slivers   *[]container.Spec       `json:"slivers,omitempty"`
	Policies  *map[string]string      `json:"policies,omitempty"`
	Settings  map[string]wire.Setting `json:"settings,omitempty"`
}

// Build reads root and returns node's document. Errors name the file.
func Build(root, node string, o Options) ([]byte, error) {
	d := document{Node: node, Seq: o.Seq}
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	if names, ok, err := list(root, "policies", ".lua"); err != nil {
		return nil, err
	} else if ok {
		pols := map[string]string{}
		var paths []string
		for _, name := range names {
			if strings.HasSuffix(name, "_test.lua") {
				continue // tests of the policies stay with the admin
			}
			if !wire.ValidPolicyFile(name) {
				bad("policies/%s: want NAME.lua (letters, digits, '_', '-', '.')", name)
				continue
			}
			p := filepath.Join(root, "policies", name)
			b, err := dir.ReadFile(p)
			if err != nil {
				bad("policies/%s: %v", name, err)
				continue
			}
			pols[name] = string(b)
			paths = append(paths, p)
		}
		if o.CheckPolicies != nil && len(paths) > 0 {
			for _, l := range o.CheckPolicies(paths) {
				bad("%s", strings.TrimPrefix(l, root+"/"))
			}
		}
		d.Policies = &pols
	}

	if names, ok, err := list(root, "slivers", ".json"); err != nil {
		return nil, err
	} else if ok {
		specs := []container.Spec{}
		seen := map[string]string{}
		for _, name := range names {
			rel := filepath.Join("slivers", name)
			b, err := dir.ReadFile(filepath.Join(root, rel))
			if err != nil {
				bad("%s: %v", rel, err)
				continue
			}
			var s container.Spec
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&s); err != nil {
				bad("%s: %v", rel, jsonErr(b, err))
				continue
			}
			if err := s.Validate(); err != nil {
				bad("%s: %v", rel, err)
				continue
			}
			if other, dup := seen[s.Name]; dup {
				bad("%s: sliver %s is also in %s", rel, s.Name, other)
				continue
			}
			seen[s.Name] = rel
			specs = append(specs, s)
		}
		d.Slivers = &specs
	}

	if b, err := dir.ReadFile(filepath.Join(root, "settings.json")); err == nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d.Settings); err != nil {
			bad("settings.json: %v", jsonErr(b, err))
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		bad("settings.json: %v", err)
	}
	if b, err := dir.ReadFile(filepath.Join(root, "node_state")); err == nil {
		d.NodeState = strings.TrimSpace(string(b))
	} else if !errors.Is(err, fs.ErrNotExist) {
		bad("node_state: %v", err)
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	// The node's own parse, with a seq if none was given.
	check := d
	if check.Seq == 0 {
		check.Seq = 1
	}
	cb, _ := json.Marshal(check)
	if _, err := wire.ParseDesired(cb, node); err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// list returns the names ending in ext in root/sub, sorted, and whether
// the subdirectory exists.
func list(root, sub, ext string) ([]string, bool, error) {
	ents, err := os.ReadDir(filepath.Join(root, sub))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ext) && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, true, nil
}

// jsonErr adds the line to a JSON syntax or type error.
func jsonErr(b []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(b)) {
		return err
	}
	return fmt.Errorf("line %d: %w", bytes.Count(b[:off], []byte("\n"))+1, err)
}
