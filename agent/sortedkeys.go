package agent

import "slices"

// sortedKeys is m's keys in order: slices.Sorted(maps.Keys(m)) without
// the iterator instantiations that links into the router binary (about
// 2.6 KB of code for the agent's four map types).
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
