package dir

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestSchemaMatchesLoader: the published schema (schema/fleet.schema.json)
// names exactly the fields the loader accepts, so editors that check
// against it agree with nodekeeper-fleet check.
func TestSchemaMatchesLoader(t *testing.T) {
	b, err := os.ReadFile("schema/fleet.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("schema: %v", err)
	}
	props := func(def string, path ...string) []string {
		var v any
		json.Unmarshal(s.Defs[def], &v)
		for _, p := range path {
			v = v.(map[string]any)["properties"].(map[string]any)[p]
		}
		var keys []string
		for k := range v.(map[string]any)["properties"].(map[string]any) {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	}
	tags := func(v any) []string {
		var keys []string
		rt := reflect.TypeOf(v)
		if rt.Kind() == reflect.Pointer {
			rt = rt.Elem()
		}
		for i := 0; i < rt.NumField(); i++ {
			tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("yaml"), ",")
			if tag != "" && tag != "-" {
				keys = append(keys, tag)
			}
		}
		sort.Strings(keys)
		return keys
	}
	var sf sliceFile
	tests := []struct {
		what           string
		schema, loader []string
	}{
		{"slice", props("slice"), tags(sf)},
		{"slice.resources", props("slice", "resources"), tags(sf.Resources)},
		{"slice.placement", props("slice", "placement"), tags(sf.Placement)},
		{"archive", props("archive"), tags(archiveYAML{})},
		{"group", props("group"), tags(Group{})},
		{"group.match", props("group", "match"), tags(Match{})},
		{"settings entry", []string{"node_state", "settings"}, tags(settingsEntry{})},
	}
	for _, tc := range tests {
		if !slices.Equal(tc.schema, tc.loader) {
			t.Errorf("%s: schema %v, loader %v", tc.what, tc.schema, tc.loader)
		}
	}
}
