package aggregate

import (
	"context"
	"fmt"
	"strconv"
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
	// Until is set on a decision that stands: taken by an earlier act (at
	// Time) whose policy is in its cooldown until then, so act did not run
	// again and the decision holds as it was.
	Until time.Time `json:"until,omitzero"`
}

func (d Decision) String() string {
	s := fmt.Sprintf("policy %s: %s(%s)", d.Policy, d.Action, strings.Join(d.Args, ", "))
	if !d.Until.IsZero() {
		s += fmt.Sprintf(" (standing: decided %s, cooldown until %s)", d.Time.UTC().Format(time.RFC3339), d.Until.UTC().Format(time.RFC3339))
	}
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

// effector checks an action's arguments against the view and adds its
// effect: the one path for an act's actions and for the decisions that
// stand in a cooldown.
type effector struct {
	v     *View
	nodes map[string]bool
	eff   *Effects
}

// do applies action for policy; it returns why it was refused, or "".
func (e *effector) do(policy, action string, args []string) string {
	v, eff := e.v, e.eff
	if want := map[string]int{"node.set_state": 2, "slice.place": 2, "slice.stop": 1, "slice.move": 2, "alert": 1}[action]; want == 0 || len(args) != want {
		return fmt.Sprintf("action %s with %d arguments", action, len(args))
	}
	switch action {
	case "node.set_state":
		id, st := args[0], args[1]
		switch {
		case !e.nodes[id]:
			return "no node " + id
		case st != "production" && st != "safe" && st != "debug":
			return "state " + st + ": want production, safe or debug"
		}
		eff.NodeState[id] = st
	case "slice.place":
		name := args[0]
		count, err := strconv.Atoi(args[1])
		switch sl := v.Slices[name]; {
		case sl == nil:
			return "no slice " + name
		case err != nil || count < 1:
			return "count below 1 (stop it with slice.stop)"
		case sl.Count == 0:
			return "slice " + name + " is placed on named nodes, not a count of a group"
		}
		eff.SliceCount[name] = count
	case "slice.stop":
		if v.Slices[args[0]] == nil {
			return "no slice " + args[0]
		}
		eff.SliceStop[args[0]] = true
	case "slice.move":
		name, id := args[0], args[1]
		switch sl := v.Slices[name]; {
		case sl == nil:
			return "no slice " + name
		case sl.Count == 0:
			return "slice " + name + " is placed on named nodes: nowhere to move it"
		}
		if eff.Avoid[name] == nil {
			eff.Avoid[name] = map[string]string{}
		}
		eff.Avoid[name][id] = "moved off by policy " + policy
	case "alert":
		eff.Alerts = append(eff.Alerts, policy+": "+args[0])
	}
	return ""
}

// Evaluate runs every policy once over v, as a first evaluation (no
// memory: a policy with a hold does not act). See EvaluateMemory.
func (s *Set) Evaluate(ctx context.Context, v *View, now time.Time) ([]Decision, *Effects, []error) {
	return s.EvaluateMemory(ctx, v, now, nil)
}

// EvaluateMemory runs every policy once over v at now: when (if any), then
// act, each under the budget, with hold and cooldown as a node applies
// them (docs/policies.md). mem is what earlier evaluations remembered
// (nil: none); it is updated for the next evaluation (the caller keeps
// it: SaveMemory), and forgets policies the set no longer has. A policy
// whose condition has not held for its hold does not act. A policy in its
// cooldown does not act either, and the decisions of its last act stand:
// they are returned (with Until) and their effects apply, so a plan does
// not flip back while act may not run. It returns the decisions, the
// effects of those that were valid, and the policies' errors.
func (s *Set) EvaluateMemory(ctx context.Context, v *View, now time.Time, mem *Memory) ([]Decision, *Effects, []error) {
	if mem == nil {
		mem = &Memory{}
	}
	eff := &Effects{NodeState: map[string]string{}, SliceCount: map[string]int{}, SliceStop: map[string]bool{}, Avoid: map[string]map[string]string{}}
	e := &effector{v: v, nodes: map[string]bool{}, eff: eff}
	for _, n := range v.Nodes {
		e.nodes[n.ID] = true
	}
	var decisions []Decision
	var errs []error
	keep := map[string]bool{}
	for _, p := range s.Policies {
		keep[p.Name] = true
		if err := s.evaluate(ctx, p, v, now, mem.policy(p.Name), e, &decisions); err != nil {
			errs = append(errs, fmt.Errorf("policy %s: %s", p.Name, luaErr(p.File, err)))
		}
	}
	for name := range mem.Policies {
		if !keep[name] {
			delete(mem.Policies, name)
		}
	}
	return decisions, eff, errs
}

// evaluate runs one policy: the condition, the hold, the cooldown, act.
func (s *Set) evaluate(ctx context.Context, p *Policy, v *View, now time.Time, pm *PolicyMemory, e *effector, decisions *[]Decision) error {
	L := p.L
	record := func(action string, args []string) {
		*decisions = append(*decisions, Decision{Time: now, Policy: p.Name, Action: action, Args: args, Error: e.do(p.Name, action, args)})
	}
	node := L.NewTable()
	node.RawSetString("set_state", L.NewFunction(func(L *lua.LState) int {
		record("node.set_state", []string{L.CheckString(1), L.CheckString(2)})
		return 0
	}))
	L.SetGlobal("node", node)
	slice := L.NewTable()
	slice.RawSetString("place", L.NewFunction(func(L *lua.LState) int {
		record("slice.place", []string{L.CheckString(1), fmt.Sprint(L.CheckInt(2))})
		return 0
	}))
	slice.RawSetString("stop", L.NewFunction(func(L *lua.LState) int {
		record("slice.stop", []string{L.CheckString(1)})
		return 0
	}))
	slice.RawSetString("move", L.NewFunction(func(L *lua.LState) int {
		record("slice.move", []string{L.CheckString(1), L.CheckString(2)})
		return 0
	}))
	L.SetGlobal("slice", slice)
	L.SetGlobal("alert", L.NewFunction(func(L *lua.LState) int {
		args := make([]any, 0, L.GetTop())
		for i := 2; i <= L.GetTop(); i++ {
			args = append(args, luaArg(L.Get(i)))
		}
		record("alert", []string{fmt.Sprintf(L.CheckString(1), args...)})
		return 0
	}))
	fleet := v.table(L)
	budget := s.Budget
	if budget <= 0 {
		budget = Budget
	}
	cctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	L.SetContext(cctx)
	defer L.RemoveContext()

	pm.LastEvaluation = now
	cond := true
	if p.when != nil {
		L.Push(p.when)
		L.Push(fleet)
		if err := L.PCall(1, 1, nil); err != nil {
			pm.HeldSince = time.Time{}
			return err
		}
		cond = lua.LVAsBool(L.Get(-1))
		L.Pop(1)
	}
	switch {
	case !cond:
		pm.HeldSince = time.Time{}
	case pm.HeldSince.IsZero() || pm.HeldSince.After(now):
		pm.HeldSince = now
	}
	if until := pm.LastAct.Add(p.Cooldown); p.Cooldown > 0 && !pm.LastAct.IsZero() && now.Before(until) {
		for _, d := range pm.Decisions {
			if d.Error != "" || d.Action == "alert" {
				continue
			}
			d.Until = until
			d.Error = e.do(p.Name, d.Action, d.Args)
			*decisions = append(*decisions, d)
		}
		return nil
	}
	if !cond || now.Sub(pm.HeldSince) < p.Hold {
		return nil
	}
	n0 := len(*decisions)
	L.Push(p.act)
	L.Push(fleet)
	err := L.PCall(1, 0, nil)
	// As on a node, only an act that decided something (an action,
	// whatever came of it, or an alert) starts the cooldown.
	if len(*decisions) > n0 {
		pm.LastAct = now
		pm.Decisions = append([]Decision(nil), (*decisions)[n0:]...)
	}
	return err
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
