package dir

import (
	"fmt"
	"path"
)

// checkPattern tells whether a match pattern is well-formed.
func checkPattern(pat string) error {
	if _, err := path.Match(pat, ""); err != nil {
		return fmt.Errorf("pattern %q: %w", pat, err)
	}
	return nil
}

// NodeFacts are what a node reports about itself that groups match on.
type NodeFacts struct {
	Labels  map[string]string
	Tags    []string
	Model   string
	Release string
}

// Matches reports whether a node with these facts belongs to the group
// by its match (named nodes are the caller's business).
func (m *Match) Matches(f NodeFacts) bool {
	if m == nil {
		return false
	}
	glob := func(pat, s string) bool {
		ok, _ := path.Match(pat, s)
		return ok
	}
	if m.Model != "" && !glob(m.Model, f.Model) {
		return false
	}
	if m.Release != "" && !glob(m.Release, f.Release) {
		return false
	}
	for k, pat := range m.Labels {
		v, ok := f.Labels[k]
		if !ok || !glob(pat, v) {
			return false
		}
	}
	for _, pat := range m.Tags {
		found := false
		for _, t := range f.Tags {
			if glob(pat, t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// editDistance is Levenshtein's, for did-you-mean hints.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
