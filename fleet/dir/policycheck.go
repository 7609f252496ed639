package dir

import (
	"bytes"
	"strings"

	"github.com/nodekeeper/nodekeeper/policy"
)

// CheckPoliciesWith returns an Options.CheckPolicies that checks policy
// files as a node does before it writes them (`nodekeeper policy check`:
// each file loaded in the sandboxed worker under the budgets), with
// tools' worker and budgets (zero budgets are the router's defaults).
func CheckPoliciesWith(tools policy.Tools) func([]string) []string {
	return func(files []string) []string {
		var out bytes.Buffer
		if tools.Check(files, &out) == 0 {
			return nil
		}
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		return lines
	}
}
