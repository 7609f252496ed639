package uci

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const sampleConfig = `config iface 'lan'
	option proto 'static'
	option ipaddr '10.0.0.1'
	list dns '1.1.1.1'

config iface 'wan'
	option proto 'dhcp'

config rule
	option name 'a'
	option enabled 'yes'

config rule
	option name 'b'
	option enabled 'off'
	option prio '10'
`

// Staged changes flow both ways between the uci command line and the Go
// API, through the change files of the save directory.
func TestStagedChangesInteroperate(t *testing.T) {
	d := dirs(t, "config", "save")
	conf, save := d[0], d[1]
	cfg := filepath.Join(conf, "net")
	write(t, cfg, sampleConfig)
	uci := mustUCI(t, "-c", conf, "-t", save, "-C", "-")
	c := &Cursor{ConfDir: conf, SaveDir: save, OverrideDir: "-"}

	// uci → Go
	uci("set", "net.lan.proto=dhcp")
	uci("add_list", "net.lan.dns=9.9.9.9")
	p, err := c.Load("net")
	if err != nil {
		t.Fatal(err)
	}
	lan := p.Section("lan")
	if got := lan.String("proto", ""); got != "dhcp" {
		t.Errorf("staged proto: %q", got)
	}
	if got := lan.List("dns"); !slices.Equal(got, []string{"1.1.1.1", "9.9.9.9"}) {
		t.Errorf("staged dns: %q", got)
	}
	var lines []string
	for _, ch := range p.Changes() {
		lines = append(lines, ch.Line("net"))
	}
	if want := []string{"net.lan.proto='dhcp'", "|net.lan.dns='9.9.9.9'"}; !slices.Equal(lines, want) {
		t.Errorf("changes %q, want %q", lines, want)
	}
	committed, err := c.LoadCommitted("net")
	if err != nil {
		t.Fatal(err)
	}
	if got := committed.Section("lan").String("proto", ""); got != "static" {
		t.Errorf("committed proto: %q", got)
	}

	// Go → uci
	must(t, p.Set("wan", "mtu", "1400"))
	must(t, p.Set("@rule[-1]", "name", "it's"))
	s, err := p.AddSection("zone")
	must(t, err)
	must(t, p.Set(s.Name(), "name", "lan"))
	must(t, p.Delete("@rule[0]", ""))
	must(t, p.DelList("lan", "dns", "1.1.1.1"))
	must(t, p.Rename("wan", "", "wan6"))
	must(t, p.Reorder("wan6", 0))
	must(t, p.Save())
	want := "net.lan.proto='dhcp'\nnet.lan.dns+='9.9.9.9'\nnet.wan.mtu='1400'\nnet.cfg0492bd.name='it'\\''s'\n" +
		"net.cfg05dc81='zone'\nnet.cfg05dc81.name='lan'\n-net.cfg0392bd\nnet.lan.dns-='1.1.1.1'\nnet.wan='wan6'\nnet.wan6='0'\n"
	if got := uci("changes", "net"); got != want {
		t.Errorf("uci changes:\n%s\nwant:\n%s", got, want)
	}
	wantShow := "net.wan6=iface\nnet.wan6.proto='dhcp'\nnet.wan6.mtu='1400'\nnet.lan=iface\nnet.lan.proto='dhcp'\n" +
		"net.lan.ipaddr='10.0.0.1'\nnet.lan.dns='9.9.9.9'\nnet.@rule[0]=rule\nnet.@rule[0].name='it'\\''s'\n" +
		"net.@rule[0].enabled='off'\nnet.@rule[0].prio='10'\nnet.@zone[0]=zone\nnet.@zone[0].name='lan'\n"
	if got := uci("show", "net"); got != wantShow {
		t.Errorf("uci show:\n%s\nwant:\n%s", got, wantShow)
	}

	// Commit through the API: the file is what uci export shows, and
	// nothing stays staged.
	export := uci("export", "net")
	must(t, p.Commit())
	if got := read(t, cfg); got != strings.TrimPrefix(export, "package net\n") {
		t.Errorf("committed file:\n%s\nwant:\n%s", got, export)
	}
	if got := uci("changes", "net"); got != "" {
		t.Errorf("still staged: %q", got)
	}
	if got := p.Section("wan6").String("mtu", ""); got != "1400" {
		t.Errorf("package after commit: mtu %q", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestTypedGetters(t *testing.T) {
	p, err := Parse("net", []byte(sampleConfig+"config flags 'f'\n\toption n ' 42 '\n\toption bad 'maybe'\n"+
		"\toption t1 '1'\n\toption t2 'on'\n\toption t3 'true'\n\toption t4 'enabled'\n"+
		"\toption f1 '0'\n\toption f2 'no'\n\toption f3 'false'\n\toption f4 'disabled'\n"))
	must(t, err)
	rules := p.SectionsOfType("rule")
	if len(rules) != 2 || !rules[0].Anonymous() || rules[1].Name() != "cfg0492bd" {
		t.Fatalf("rules: %v", rules)
	}
	if p.Section("@rule[-1]") != rules[1] || p.Section("@[1]").Name() != "wan" || p.Section("@rule[2]") != nil {
		t.Error("extended section names resolve wrongly")
	}
	f := p.Section("f")
	for _, tt := range []struct {
		opt  string
		def  bool
		want bool
		err  bool
	}{
		{"t1", false, true, false}, {"t2", false, true, false}, {"t3", false, true, false}, {"t4", false, true, false},
		{"f1", true, false, false}, {"f2", true, false, false}, {"f3", true, false, false}, {"f4", true, false, false},
		{"missing", true, true, false}, {"missing", false, false, false}, {"bad", true, true, true},
	} {
		got, err := f.Bool(tt.opt, tt.def)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("Bool(%s, %v) = %v, %v", tt.opt, tt.def, got, err)
		}
	}
	if n, err := f.Int("n", 0); n != 42 || err != nil {
		t.Errorf("Int(n) = %d, %v", n, err)
	}
	if n, err := f.Int("bad", 7); n != 7 || err == nil {
		t.Errorf("Int(bad) = %d, %v", n, err)
	}
	if got := rules[1].String("prio", "x"); got != "10" {
		t.Errorf("String(prio) = %q", got)
	}
	if got := rules[0].String("prio", "x"); got != "x" {
		t.Errorf("String(missing) = %q", got)
	}
	if got := p.Section("wan").List("proto"); !slices.Equal(got, []string{"dhcp"}) {
		t.Errorf("List of a single option = %q", got)
	}
	if v, _ := p.Section("lan").Get("dns"); v != "1.1.1.1" {
		t.Errorf("Get(list) = %q", v)
	}
}

func TestAPIErrors(t *testing.T) {
	p, err := Parse("net", []byte(sampleConfig))
	must(t, err)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"set in missing section", p.Set("nope", "x", "1"), ErrInvalid},
		{"bad option name", p.Set("lan", "bad-name", "1"), ErrInvalid},
		{"control character", p.Set("lan", "x", "a\x01"), ErrInvalid},
		{"bad section type", p.Set("lan", "", "bad type"), ErrInvalid},
		{"delete missing", p.Delete("lan", "nope"), ErrNotFound},
		{"rename to bad name", p.Rename("lan", "", "a-b"), ErrInvalid},
		{"reorder missing", p.Reorder("nope", 1), ErrNotFound},
		{"bad extended name", p.Set("@rule", "x", "1"), ErrInvalid},
		{"save unattached", p.Save(), ErrInvalid},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.err, tt.want)
		}
	}
	if _, err := p.AddSection("bad type"); !errors.Is(err, ErrInvalid) {
		t.Errorf("AddSection(bad type): %v", err)
	}
	if _, err := (&Cursor{ConfDir: t.TempDir(), OverrideDir: "-"}).Load("missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load(missing): %v", err)
	}
}
