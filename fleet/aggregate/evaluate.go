package aggregate

import (
	"context"
	"fmt"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Decision is one action a policy took (or, in a dry run, would take).
type Decision struct {
	Time   time.Time `json:"time"`
	Policy string    `json:"policy"`
	// Action is node.set_state, slice.place, slice.stop, slice.move or alert.
	Action string   `json:"action"`
	Args   []string `json:"args"`
	// Error says why the action was not taken (a bad argument), if so.
	Error string `json:"error,omitempty"`
}

func (d Decision) String() string {
	s := fmt.Sprintf("policy %s: %s(%s)", d.Policy, d.Action, strings.Join(d.Args, ", "))
	if d.Error != "" {
		s += ": refused: " + d.Error
	}
	return s
}

// Effects are what the decisions change in the plan.
type Effects struct {
	NodeState  map[string]string            // node -> production, safe, debug
	SliceCount map[string]int               // slice -> count
	SliceStop  map[string]bool              // slice -> stopped (deploy, not start)
	Avoid      map[string]map[string]string // slice -> node -> why (moved off)
	Alerts     []string
}

// Evaluate runs every policy once over v: when (if any) then act, each
// under Budget. It returns the decisions, the effects of those that were
// valid, and the policies' errors.
func (s *Set) Evaluate(ctx context.Context, v *View, now time.Time) ([]Decision, *Effects, []error) {
	eff := &Effects{NodeState: map[string]string{}, SliceCount: map[string]int{}, SliceStop: map[string]bool{}, Avoid: map[string]map[string]string{}}
	var decisions []Decision
	var errs []error
	nodes := map[string]bool{}
	for _, n := range v.Nodes {
		nodes[n.ID] = true
	}
	for _, p := range s.Policies {
		L := p.L
		record := func(action string, args []string, err string) {
			decisions = append(decisions, Decision{Time: now, Policy: p.Name, Action: action, Args: args, Error: err})
		}
		api := func() {
			node := L.NewTable()
			node.RawSetString("set_state", L.NewFunction(func(L *lua.LState) int {
				id, st := L.CheckString(1), L.CheckString(2)
				var bad string
				switch {
				case !nodes[id]:
					bad = "no node " + id
				case st != "production" && st != "safe" && st != "debug":
					bad = "state " + st + ": want production, safe or debug"
				default:
					eff.NodeState[id] = st
				}
				record("node.set_state", []string{id, st}, bad)
				return 0
			}))
			L.SetGlobal("node", node)
			slice := L.NewTable()
			slice.RawSetString("place", L.NewFunction(func(L *lua.LState) int {
				name, count := L.CheckString(1), L.CheckInt(2)
				var bad string
				switch sl := v.Slices[name]; {
				case sl == nil:
					bad = "no slice " + name
				case count < 1:
					bad = "count below 1 (stop it with slice.stop)"
				case sl.Count == 0:
					bad = "slice " + name + " is placed on named nodes, not a count of a group"
				default:
					eff.SliceCount[name] = count
				}
				record("slice.place", []string{name, fmt.Sprint(count)}, bad)
				return 0
			}))
			slice.RawSetString("stop", L.NewFunction(func(L *lua.LState) int {
				name := L.CheckString(1)
				var bad string
				if v.Slices[name] == nil {
					bad = "no slice " + name
				} else {
					eff.SliceStop[name] = true
				}
				record("slice.stop", []string{name}, bad)
				return 0
			}))
			slice.RawSetString("move", L.NewFunction(func(L *lua.LState) int {
				name, id := L.CheckString(1), L.CheckString(2)
				var bad string
				switch sl := v.Slices[name]; {
				case sl == nil:
					bad = "no slice " + name
				case sl.Count == 0:
					bad = "slice " + name + " is placed on named nodes: nowhere to move it"
				default:
					if eff.Avoid[name] == nil {
						eff.Avoid[name] = map[string]string{}
					}
					eff.Avoid[name][id] = "moved off by policy " + p.Name
				}
				record("slice.move", []string{name, id}, bad)
				return 0
			}))
			L.SetGlobal("slice", slice)
			L.SetGlobal("alert", L.NewFunction(func(L *lua.LState) int {
				args := make([]any, 0, L.GetTop())
				for i := 2; i <= L.GetTop(); i++ {
					args = append(args, luaArg(L.Get(i)))
				}
				msg := fmt.Sprintf(L.CheckString(1), args...)
				eff.Alerts = append(eff.Alerts, p.Name+": "+msg)
				record("alert", []string{msg}, "")
				return 0
			}))
		}
		api()
		fleet := v.table(L)
		budget := s.Budget
		if budget <= 0 {
			budget = Budget
		}
		cctx, cancel := context.WithTimeout(ctx, budget)
		L.SetContext(cctx)
		err := func() error {
			if p.when != nil {
				L.Push(p.when)
				L.Push(fleet)
				if err := L.PCall(1, 1, nil); err != nil {
					return err
				}
				ok := lua.LVAsBool(L.Get(-1))
				L.Pop(1)
				if !ok {
					return nil
				}
			}
			L.Push(p.act)
			L.Push(fleet)
			return L.PCall(1, 0, nil)
		}()
		L.RemoveContext()
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("policy %s: %s", p.Name, luaErr(p.File, err)))
		}
	}
	return decisions, eff, errs
}

func luaArg(v lua.LValue) any {
	switch x := v.(type) {
	case lua.LNumber:
		if f := float64(x); f == float64(int64(f)) {
			return int64(f)
		}
		return float64(x)
	case lua.LString:
		return string(x)
	case lua.LBool:
		return bool(x)
	}
	return v.String()
}
