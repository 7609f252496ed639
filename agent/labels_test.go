package agent

import (
	"reflect"
	"strings"
	"testing"

	"github.com/nodekeeper/nodekeeper/wire"
)

// TestConfigLabels: `list label` gives labels (KEY=VALUE) and tags,
// latitude and longitude the location; what breaks the grammar is refused
// naming the file, the section and the option.
func TestConfigLabels(t *testing.T) {
	agent := func(lines ...string) string {
		return "config agent 'agent'\n\t" + strings.Join(lines, "\n\t") + "\n"
	}
	tests := []struct {
		name, text string
		labels     map[string]string
		tags       []string
		loc        *wire.Location
		err        string // in the error; "" for none
	}{
		{"none", agent("option log_level 'info'"), nil, nil, nil, ""},
		{"labels, tags, location", agent("list label 'owner=alice'", "list label 'outdoor'", "list label 'site=rooftop 3, east'",
			"list label 'solar'", "list label 'note='", "option latitude '41.3874'", "option longitude '-2.1686'"),
			map[string]string{"owner": "alice", "site": "rooftop 3, east", "note": ""}, []string{"outdoor", "solar"},
			&wire.Location{Lat: 41.3874, Lon: -2.1686}, ""},
		{"whole degrees", agent("option latitude '-90'", "option longitude '180'"), nil, nil, &wire.Location{Lat: -90, Lon: 180}, ""},
		{"value with '='", agent("list label 'k=a=b'"), map[string]string{"k": "a=b"}, nil, nil, ""},
		{"bad key", agent("list label 'own er=alice'"), nil, nil, nil, `option label: "own er=alice": want KEY=VALUE or TAG`},
		{"empty key", agent("list label '=alice'"), nil, nil, nil, "option label"},
		{"tag with a slash", agent("list label 'in/out'"), nil, nil, nil, `option label: "in/out"`},
		{"key too long", agent("list label '" + strings.Repeat("k", 65) + "=v'"), nil, nil, nil, "option label"},
		{"value too long", agent("list label 'k=" + strings.Repeat("v", 129) + "'"), nil, nil, nil, "at most 128 printable bytes"},
		{"value with a tab", agent("list label 'k=a\tb'"), nil, nil, nil, "option label"},
		{"value not UTF-8", agent("list label 'k=\xff'"), nil, nil, nil, "option label"},
		{"key twice", agent("list label 'k=a'", "list label 'k=b'"), nil, nil, nil, `option label: "k": given twice`},
		{"tag twice", agent("list label 't'", "list label 't'"), nil, nil, nil, "given twice"},
		{"latitude alone", agent("option latitude '41.3'"), nil, nil, nil, "give both or neither"},
		{"latitude out of range", agent("option latitude '90.5'", "option longitude '2'"), nil, nil, nil,
			`option latitude: "90.5": want decimal degrees in -90..90`},
		{"longitude out of range", agent("option latitude '1'", "option longitude '-180.01'"), nil, nil, nil, "option longitude"},
		{"exponent", agent("option latitude '4e1'", "option longitude '2'"), nil, nil, nil, "option latitude"},
		{"not a number", agent("option latitude 'NaN'", "option longitude '2'"), nil, nil, nil, "option latitude"},
		{"plus sign", agent("option latitude '1'", "option longitude '+2'"), nil, nil, nil, "option longitude"},
		{"trailing dot", agent("option latitude '1.'", "option longitude '2'"), nil, nil, nil, "option latitude"},
		{"spaces", agent("option latitude ' 1'", "option longitude '2'"), nil, nil, nil, "option latitude"},
		{"latitude as a list", agent("list latitude '1'", "option longitude '2'"), nil, nil, nil, "option latitude: is a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadText(t, tt.text)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "/"+Package+": config agent 'agent'") {
					t.Fatalf("error %v, want it to name the file and say %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a := cfg.Agent
			if !reflect.DeepEqual(a.Labels, tt.labels) || !reflect.DeepEqual(a.Tags, tt.tags) || !reflect.DeepEqual(a.Location, tt.loc) {
				t.Errorf("labels %v, tags %v, location %v; want %v, %v, %v", a.Labels, a.Tags, a.Location, tt.labels, tt.tags, tt.loc)
			}
		})
	}
}
