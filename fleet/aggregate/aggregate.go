// Package aggregate evaluates aggregation policies: Lua policies in the
// language of docs/policies.md, evaluated by the fleet over the whole
// fleet (fleet.nodes, fleet.slices) instead of one node, whose actions
// change the plan: node.set_state, slice.place, slice.stop, slice.move,
// alert. Their changes go out through the same rollout waves; callers run
// them as a dry run unless the admin switches them on.
package aggregate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/policy"
	lua "github.com/yuin/gopher-lua"
)

// Budget bounds one evaluation of one policy: sized for thousands of
// nodes, not the router's 50 ms (the fleet runs on a server). There is no
// in-process memory cap (gopher-lua has none); the Lua stack is capped.
const Budget = 5 * time.Second

// Policy is one loaded aggregation policy.
type Policy struct {
	Name string
	File string
	// Hold and Cooldown are the policy's hold and cooldown, as a node's
	// policy has them (docs/policies.md): the condition must have held on
	// every evaluation for Hold before act runs, and after an act that
	// decided something act does not run again for Cooldown (its
	// decisions stand meanwhile). Evaluations remember them in a Memory.
	Hold, Cooldown time.Duration
	when           *lua.LFunction
	act            *lua.LFunction
	L              *lua.LState
}

// Set is the loaded policies of a directory.
type Set struct {
	Policies []*Policy
	// Budget bounds each evaluation (default Budget).
	Budget time.Duration
	states []*lua.LState
}

// Close frees the Lua states.
func (s *Set) Close() {
	for _, L := range s.states {
		L.Close()
	}
}

// forbidden globals: a policy has no way out but its actions.
var forbidden = []string{"io", "os", "debug", "package", "require", "module", "load", "loadstring", "loadfile",
	"dofile", "getfenv", "setfenv", "collectgarbage", "newproxy", "coroutine", "channel", "print", "_printregs"}

func newState() *lua.LState {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 200, RegistrySize: 1024, RegistryMaxSize: 1 << 18, MinimizeStackMemory: true})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	for _, name := range forbidden {
		L.G.Global.RawSetString(name, lua.LNil)
	}
	return L
}

// Load loads every *.lua file of dir (not *_test.lua); a missing
// directory is an empty set. Errors name file:line.
func Load(dir string) (*Set, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return &Set{}, nil
	}
	if err != nil {
		return nil, err
	}
	s := &Set{}
	var problems []string
	names := map[string]string{}
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".lua") || strings.HasSuffix(e.Name(), "_test.lua") {
			continue
		}
		file := filepath.Join(dir, e.Name())
		ps, err := loadFile(s, file)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		for _, p := range ps {
			if other, dup := names[p.Name]; dup {
				problems = append(problems, fmt.Sprintf("%s: policy %q is also declared in %s", file, p.Name, other))
				continue
			}
			names[p.Name] = file
			s.Policies = append(s.Policies, p)
		}
	}
	if len(problems) > 0 {
		s.Close()
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	sort.Slice(s.Policies, func(i, j int) bool { return s.Policies[i].Name < s.Policies[j].Name })
	return s, nil
}

func loadFile(s *Set, file string) ([]*Policy, error) {
	src, err := readLimited(file)
	if err != nil {
		return nil, err
	}
	L := newState()
	s.states = append(s.states, L)
	var ps []*Policy
	var declErr error
	L.SetGlobal("policy", L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(1)
		return pushDecl(L, func(L *lua.LState) int {
			t := L.CheckTable(1)
			p := &Policy{Name: name, File: file, L: L}
			t.ForEach(func(k, v lua.LValue) {
				switch k.String() {
				case "when":
					p.when, _ = v.(*lua.LFunction)
				case "act":
					p.act, _ = v.(*lua.LFunction)
				case "hold", "cooldown":
					d, err := duration(v)
					if err != nil && declErr == nil {
						declErr = fmt.Errorf("policy %q: %s: %v", name, k.String(), err)
					}
					if k.String() == "hold" {
						p.Hold = d
					} else {
						p.Cooldown = d
					}
				case "every", "description":
				default:
					if declErr == nil {
						declErr = fmt.Errorf("policy %q: unknown field %q (want when, act, hold, cooldown, every, description)", name, k.String())
					}
				}
			})
			if p.act == nil && declErr == nil {
				declErr = fmt.Errorf("policy %q: no act function", name)
			}
			ps = append(ps, p)
			return 0
		})
	}))
	ctx, cancel := context.WithTimeout(context.Background(), Budget)
	defer cancel()
	L.SetContext(ctx)
	fn, err := L.Load(strings.NewReader(string(src)), "@"+file)
	if err == nil {
		L.Push(fn)
		err = L.PCall(0, 0, nil)
	}
	L.RemoveContext()
	if err != nil {
		return nil, fmt.Errorf("%s", luaErr(file, err))
	}
	if declErr != nil {
		return nil, fmt.Errorf("%s:1: %v", file, declErr)
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("%s:1: declares no policy (policy \"name\" { act = function(fleet) ... end })", file)
	}
	return ps, nil
}

// duration reads a hold or cooldown: a string in the policy language's
// grammar ("30s", "2m", "1h30m"), as a node reads it.
func duration(v lua.LValue) (time.Duration, error) {
	str, ok := v.(lua.LString)
	if !ok {
		return 0, fmt.Errorf("want a duration string such as \"2m\", not a %s", v.Type())
	}
	return policy.ParseDuration(string(str))
}

func pushDecl(L *lua.LState, f lua.LGFunction) int {
	L.Push(L.NewFunction(f))
	return 1
}

// luaErr makes gopher-lua's "@file:line: msg" read file:line: msg.
func luaErr(file string, err error) string {
	m := err.Error()
	// Syntax errors: "@FILE line:N(column:C) near 'x': syntax error".
	if sm := syntaxRE.FindStringSubmatch(m); sm != nil {
		return fmt.Sprintf("%s:%s: %s", file, sm[1], strings.TrimSpace(sm[2]))
	}
	if i := strings.Index(m, file+":"); i >= 0 {
		m = m[i:]
	}
	if i := strings.Index(m, "\nstack traceback"); i >= 0 {
		m = m[:i]
	}
	if !strings.HasPrefix(m, file) {
		m = file + ":1: " + m
	}
	return m
}

var syntaxRE = regexp.MustCompile(`line:(\d+)\(column:\d+\) (.*)`)

// readLimited reads a policy file: a regular file (not waiting on a
// FIFO), at most 256 KiB, as the node's policy files.
func readLimited(file string) ([]byte, error) {
	b, err := dir.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if len(b) > 256<<10 {
		return nil, fmt.Errorf("%s: larger than 256 KiB", file)
	}
	return b, nil
}
