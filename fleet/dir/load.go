package dir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/nodekeeper/nodekeeper/container"
	"go.yaml.in/yaml/v3"
)

// maxFileBytes bounds every file of a fleet directory.
const maxFileBytes = 1 << 20

// Options change how Load checks a directory.
type Options struct {
	// CheckPolicies, if set, checks policy files as a node would (`policy
	// check` in a worker under the node's budgets) and returns problems as
	// "FILE:LINE: message" lines naming the files it was given.
	CheckPolicies func(files []string) []string
}

// Load reads and checks the fleet directory root. A directory with any
// problem is refused whole: the error is Problems, each with file:line.
func Load(root string, o Options) (*Fleet, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("fleet directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("fleet directory %s: not a directory", root)
	}
	l := &loader{root: root, f: &Fleet{Root: root, Groups: map[string]*Group{}, Slices: map[string]*Slice{}, Policies: map[string]*Policy{}}}
	l.f.Groups[AllGroup] = &Group{Name: AllGroup, Pos: Pos{File: "(built in)"}}
	l.groups()
	l.slices()
	l.policies(o)
	l.settings()
	if err := l.c.err(); err != nil {
		return nil, err
	}
	return l.f, nil
}

type loader struct {
	// noGroups is set when groups.yaml could not be read: references to
	// groups are then not checked (each would be one more error).
	noGroups bool
	root     string
	f        *Fleet
	c        problems
}

// read reads a file of the directory (rel is relative to root): a regular
// file, opened without blocking on a FIFO, through a size limit. A missing
// file is (nil, false) without a problem when optional.
func (l *loader) read(rel string, optional bool) ([]byte, bool) {
	b, err := readFile(filepath.Join(l.root, rel))
	if err != nil {
		if optional && errors.Is(err, fs.ErrNotExist) {
			return nil, false
		}
		l.c.add(Pos{File: rel}, "%v", err)
		return nil, false
	}
	return b, true
}

// readFile reads a file someone else named: O_NONBLOCK (a FIFO does not
// hang), fstat'ed, a regular file, at most maxFileBytes.
func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileBytes)
	}
	return b, nil
}

// list returns the names in a subdirectory ending in ext, sorted; a
// missing subdirectory is empty.
func (l *loader) list(sub, ext string) []string {
	ents, err := os.ReadDir(filepath.Join(l.root, sub))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			l.c.add(Pos{File: sub}, "%v", err)
		}
		return nil
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ext) && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// validNodeID is the grammar of node ids a fleet directory names: 1-64
// letters, digits, '-', '_', '.', not starting with '.' or '_' (a topic
// level of its own, never a wildcard; "_fleet" is the fleet's own level).
func validNodeID(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[0] == '_' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ValidNodeID reports whether s is a node id the fleet accepts.
func ValidNodeID(s string) bool { return validNodeID(s) }

// validGroupName: like a sliver name, lowercase letters, digits and '-'.
func validGroupName(s string) bool {
	if s == "" || len(s) > 32 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// groupsFile is groups.yaml.
type groupsFile struct {
	Groups map[string]*Group `yaml:"groups"`
}

func (l *loader) groups() {
	const file = "groups.yaml"
	b, ok := l.read(file, true)
	if !ok {
		l.noGroups = len(l.c.list) > 0
		return
	}
	var gf groupsFile
	root, ok := decodeFile(file, b, &gf, &l.c)
	if !ok {
		l.noGroups = true
		return
	}
	for _, name := range sortedKeys(gf.Groups) {
		g := gf.Groups[name]
		pos := Pos{File: file, Line: lineOf(root, "groups", name)}
		if g == nil {
			g = &Group{}
		}
		g.Name, g.Pos = name, pos
		switch {
		case name == AllGroup:
			l.c.add(pos, "group %q is built in (every node): choose another name", name)
			continue
		case !validGroupName(name):
			l.c.add(pos, "group name %q: want 1-32 of a-z, 0-9 and '-'", name)
			continue
		case len(g.Nodes) == 0 && g.Match == nil:
			l.c.add(pos, "group %s: neither nodes nor match: it would be empty", name)
		}
		seen := map[string]bool{}
		for i, n := range g.Nodes {
			p := Pos{File: file, Line: lineOf(root, "groups", name, "nodes", fmt.Sprint(i))}
			if !validNodeID(n) {
				l.c.add(p, "group %s: node id %q: want 1-64 of letters, digits, '-', '_', '.'", name, n)
			}
			if seen[n] {
				l.c.add(p, "group %s: node %s listed twice", name, n)
			}
			seen[n] = true
		}
		if m := g.Match; m != nil {
			for k, v := range m.Labels {
				if k == "" || v == "" {
					l.c.add(Pos{File: file, Line: lineOf(root, "groups", name, "match", "labels", k)}, "group %s: label %q: empty name or value", name, k)
				}
			}
			for _, pat := range append(append([]string{m.Model, m.Release}, mapValues(m.Labels)...), m.Tags...) {
				if err := checkPattern(pat); err != nil {
					l.c.add(Pos{File: file, Line: lineOf(root, "groups", name, "match")}, "group %s: %v", name, err)
				}
			}
		}
		l.f.Groups[name] = g
	}
}

// sliceFile is slices/NAME.yaml.
type sliceFile struct {
	Template   *archiveYAML  `yaml:"template"`
	Data       *archiveYAML  `yaml:"data"`
	Resources  resourcesYAML `yaml:"resources"`
	Interfaces []string      `yaml:"interfaces"`
	SetState   string        `yaml:"set_state"`
	InstanceSN uint64        `yaml:"instance_sn"`
	ID         int           `yaml:"id"`
	Owner      string        `yaml:"owner"`
	Placement  *struct {
		Nodes []string `yaml:"nodes"`
		Group string   `yaml:"group"`
		Count int      `yaml:"count"`
	} `yaml:"placement"`
}

type archiveYAML struct {
	URL    string `yaml:"url"`
	SHA256 string `yaml:"sha256"`
	Type   string `yaml:"type"`
}

// resourcesYAML takes sizes with units ("64M") as the CLI does.
type resourcesYAML struct {
	Memory        string `yaml:"memory"`
	Disk          string `yaml:"disk"`
	CPUMillicores int    `yaml:"cpu_millicores"`
	CPUShares     int    `yaml:"cpu_shares"`
	Pids          int    `yaml:"pids"`
}

func (l *loader) slices() {
	for _, name := range l.list("slices", ".yaml") {
		file := filepath.Join("slices", name)
		b, ok := l.read(file, false)
		if !ok {
			continue
		}
		var sf sliceFile
		root, ok := decodeFile(file, b, &sf, &l.c)
		if !ok {
			continue
		}
		sname := strings.TrimSuffix(name, ".yaml")
		at := func(path ...string) Pos { return Pos{File: file, Line: lineOf(root, path...)} }
		s := &Slice{Name: sname, Owner: sf.Owner, Pos: at()}
		s.Spec = container.Spec{Name: sname, Slice: sname, ID: sf.ID, InstanceSN: sf.InstanceSN, Request: container.Request(sf.SetState)}
		nproblems := len(l.c.list)
		if sf.Template == nil {
			l.c.add(at(), "slice %s: no template (url and sha256)", sname)
		} else {
			if sf.Template.SHA256 == "" {
				l.c.add(at("template"), "slice %s: template without sha256 (nodes verify every template by its SHA-256)", sname)
			}
			s.Spec.Template = container.Archive{URL: sf.Template.URL, SHA256: sf.Template.SHA256, Type: sf.Template.Type}
		}
		if sf.Data != nil {
			if sf.Data.SHA256 == "" {
				l.c.add(at("data"), "slice %s: data archive without sha256", sname)
			}
			s.Spec.Data = &container.Archive{URL: sf.Data.URL, SHA256: sf.Data.SHA256, Type: sf.Data.Type}
		}
		r := &s.Spec.Resources
		r.CPUMillicores, r.CPUShares, r.Pids = sf.Resources.CPUMillicores, sf.Resources.CPUShares, sf.Resources.Pids
		for _, sz := range []struct {
			key string
			v   string
			out *int64
		}{{"memory", sf.Resources.Memory, &r.MemoryBytes}, {"disk", sf.Resources.Disk, &r.DiskBytes}} {
			if sz.v == "" {
				continue
			}
			n, err := container.ParseSize(sz.v)
			if err != nil {
				l.c.add(at("resources", sz.key), "slice %s: resources.%s: %v", sname, sz.key, err)
			}
			*sz.out = n
		}
		for i, is := range sf.Interfaces {
			ifc, err := container.ParseInterface(is)
			if err != nil {
				l.c.add(at("interfaces", fmt.Sprint(i)), "slice %s: %v", sname, err)
				continue
			}
			s.Spec.Interfaces = append(s.Spec.Interfaces, ifc)
		}
		if sf.Owner != "" && !validKeyID(sf.Owner) {
			l.c.add(at("owner"), "slice %s: owner %q: want a key id, 16 hex digits (usign -F -p KEY.pub)", sname, sf.Owner)
		}
		if len(l.c.list) == nproblems {
			// The node's own checks, on what is left.
			if err := s.Spec.Validate(); err != nil {
				l.c.add(at(), "slice %s: %v", sname, err)
			}
		}
		if sf.Placement == nil {
			l.c.add(at(), "slice %s: no placement (nodes: [...], or group: G with count: N)", sname)
		} else {
			p := sf.Placement
			s.Placement = Placement{Nodes: p.Nodes, Group: p.Group, Count: p.Count}
			switch {
			case len(p.Nodes) > 0 && p.Group != "":
				l.c.add(at("placement"), "slice %s: placement names nodes and a group: choose one", sname)
			case len(p.Nodes) > 0:
				if p.Count != 0 {
					l.c.add(at("placement", "count"), "slice %s: placement count goes with a group, not named nodes", sname)
				}
				for i, n := range p.Nodes {
					if !validNodeID(n) {
						l.c.add(at("placement", "nodes", fmt.Sprint(i)), "slice %s: node id %q: want 1-64 of letters, digits, '-', '_', '.'", sname, n)
					}
				}
			case p.Group != "":
				if _, ok := l.f.Groups[p.Group]; !ok && !l.noGroups {
					l.c.add(at("placement", "group"), "slice %s: placed on group %q, which groups.yaml does not define%s", sname, p.Group, l.groupHint(p.Group))
				}
				if p.Count < 0 {
					l.c.add(at("placement", "count"), "slice %s: count %d: want 0 (every node of the group) or more", sname, p.Count)
				}
			default:
				l.c.add(at("placement"), "slice %s: placement names neither nodes nor a group", sname)
			}
		}
		l.f.Slices[sname] = s
	}
}

// groupHint suggests the group meant, if one is close.
func (l *loader) groupHint(name string) string {
	var names []string
	for g := range l.f.Groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		if strings.EqualFold(g, name) || editDistance(g, name) <= 2 {
			return fmt.Sprintf(" (did you mean %q?)", g)
		}
	}
	return " (groups: " + strings.Join(names, ", ") + ")"
}

// validKeyID: 16 hex digits.
func validKeyID(s string) bool {
	return len(s) == 16 && strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}

// policiesFile is policies.yaml: file name -> groups.
type policyEntry struct {
	Groups []string `yaml:"groups"`
}

func (l *loader) policies(o Options) {
	const file = "policies.yaml"
	var entries map[string]*policyEntry
	var root *yaml.Node
	if b, ok := l.read(file, true); ok {
		r, ok := decodeFile(file, b, &entries, &l.c)
		if !ok {
			return
		}
		root = r
	}
	onDisk := l.list("policies", ".lua")
	present := map[string]bool{}
	var check []string
	for _, name := range onDisk {
		present[name] = true
		if _, ok := entries[name]; !ok {
			l.c.add(Pos{File: filepath.Join("policies", name), Line: 1}, "policy file %s goes to no group: list it in policies.yaml", name)
		}
	}
	for _, name := range sortedKeys(entries) {
		e := entries[name]
		pos := Pos{File: file, Line: lineOf(root, name)}
		if !validPolicyFile(name) {
			l.c.add(pos, "policy file name %q: want NAME.lua (letters, digits, '_', '-', '.'), not a test", name)
			continue
		}
		if !present[name] {
			l.c.add(pos, "policy %s: no file policies/%s", name, name)
			continue
		}
		if e == nil || len(e.Groups) == 0 {
			l.c.add(pos, "policy %s: no groups", name)
			continue
		}
		for i, g := range e.Groups {
			if _, ok := l.f.Groups[g]; !ok && !l.noGroups {
				l.c.add(Pos{File: file, Line: lineOf(root, name, "groups", fmt.Sprint(i))}, "policy %s: group %q, which groups.yaml does not define%s", name, g, l.groupHint(g))
			}
		}
		rel := filepath.Join("policies", name)
		src, ok := l.read(rel, false)
		if !ok {
			continue
		}
		l.f.Policies[name] = &Policy{File: name, Source: string(src), Groups: e.Groups, Pos: pos}
		check = append(check, filepath.Join(l.root, rel))
	}
	if o.CheckPolicies != nil && len(check) > 0 {
		for _, p := range o.CheckPolicies(check) {
			pos, msg := l.checkerLine(p)
			l.c.add(pos, "%s", msg)
		}
	}
}

// checkerLine splits a checker's "PATH:LINE: message" line into a Pos
// relative to the root and the message.
func (l *loader) checkerLine(line string) (Pos, string) {
	f, rest, ok := strings.Cut(line, ":")
	if !ok {
		return Pos{File: "policies"}, line
	}
	pos := Pos{File: f}
	if r, err := filepath.Rel(l.root, f); err == nil && !strings.HasPrefix(r, "..") {
		pos.File = r
	}
	if n, msg, ok := strings.Cut(rest, ":"); ok {
		if ln, err := strconv.Atoi(n); err == nil {
			pos.Line = ln
			rest = msg
		}
	}
	return pos, "policy check: " + strings.TrimSpace(rest)
}

// validPolicyFile is the node's grammar for policy file names.
func validPolicyFile(name string) bool {
	base, ok := strings.CutSuffix(name, ".lua")
	if !ok || base == "" || len(base) > 64 || strings.HasSuffix(name, "_test.lua") {
		return false
	}
	for i := 0; i < len(base); i++ {
		c := base[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return true
}

// settingsEntry is one group's part of settings.yaml.
type settingsEntry struct {
	NodeState string                  `yaml:"node_state"`
	Settings  map[string]settingValue `yaml:"settings"`
}

// settingValue reads a scalar, a sequence of scalars or null.
type settingValue struct{ s Setting }

// UnmarshalYAML implements yaml.Unmarshaler.
func (v *settingValue) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			v.s = Setting{Delete: true}
			return nil
		}
		v.s = Setting{Values: []string{n.Value}}
		return nil
	case yaml.SequenceNode:
		v.s = Setting{List: true, Values: []string{}}
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode || c.Tag == "!!null" {
				return fmt.Errorf("line %d: a list setting holds plain values", c.Line)
			}
			v.s.Values = append(v.s.Values, c.Value)
		}
		return nil
	}
	return fmt.Errorf("line %d: want a value, a list of values or null", n.Line)
}

func (l *loader) settings() {
	const file = "settings.yaml"
	b, ok := l.read(file, true)
	if !ok {
		return
	}
	var m map[string]*settingsEntry
	root, ok := decodeFile(file, b, &m, &l.c)
	if !ok {
		return
	}
	// In the file's order: the order is how conflicts are reported.
	for _, g := range topKeys(root) {
		e := m[g]
		pos := Pos{File: file, Line: lineOf(root, g)}
		if _, ok := l.f.Groups[g]; !ok {
			if l.noGroups {
				continue
			}
			l.c.add(pos, "settings for group %q, which groups.yaml does not define%s", g, l.groupHint(g))
			continue
		}
		gs := &GroupSettings{Group: g, Pos: pos, Settings: map[string]Setting{}, KeyPos: map[string]Pos{}}
		if e != nil {
			switch e.NodeState {
			case "", "production", "safe", "debug":
				gs.NodeState = e.NodeState
			default:
				l.c.add(Pos{File: file, Line: lineOf(root, g, "node_state")}, "group %s: node_state %q: want production, safe or debug", g, e.NodeState)
			}
			for _, k := range sortedKeys(e.Settings) {
				kp := Pos{File: file, Line: lineOf(root, g, "settings", k)}
				sec, opt, ok := strings.Cut(k, ".")
				if !ok || !validUCIName(sec) || !validUCIName(opt) {
					l.c.add(kp, "group %s: setting %q: want SECTION.OPTION", g, k)
					continue
				}
				if k == "agent.node_state" {
					l.c.add(kp, "group %s: set node_state: instead of the setting agent.node_state", g)
					continue
				}
				if sec == "remote" && (opt == "enabled" || opt == "trusted_key" || opt == "unmanaged" || opt == "threshold") {
					l.c.add(kp, "group %s: %s is never changed by a document (the node's owner keeps it)", g, k)
					continue
				}
				s := e.Settings[k].s
				if v := nodeAt(root, g, "settings", k); v != nil && v.Tag == "!!null" {
					s = Setting{Delete: true} // yaml leaves null to the zero value
				}
				for _, v := range s.Values {
					if strings.ContainsRune(v, 0) {
						l.c.add(kp, "group %s: setting %s: NUL byte in a value", g, k)
					}
				}
				gs.Settings[k] = s
				gs.KeyPos[k] = kp
			}
		}
		l.f.Settings = append(l.f.Settings, gs)
	}
}

// validUCIName is UCI's grammar for section and option names.
func validUCIName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// topKeys returns a mapping document's keys in file order.
func topKeys(root *yaml.Node) []string {
	n := root
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	var keys []string
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			keys = append(keys, n.Content[i].Value)
		}
	}
	return keys
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// ReadFile reads a file someone named (a document to push, a file of a
// directory): a regular file, not blocking on a FIFO, at most 1 MiB.
func ReadFile(path string) ([]byte, error) { return readFile(path) }
