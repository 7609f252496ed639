package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestPolicyUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"policy"}, "usage: nodekeeper policy check"},
		{[]string{"policy", "check"}, "usage: nodekeeper policy check"},
		{[]string{"policy", "eval", "x.lua"}, "--state"},
		{[]string{"policy", "frob"}, "usage: nodekeeper policy check"},
		{[]string{"policy", "eval", "--state", "/nonexistent.json", "x.lua"}, "nonexistent.json"},
	} {
		var out, errb bytes.Buffer
		if code := dispatch(tc.args, nil, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2", tc.args, code)
		}
		if !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: stderr %q lacks %q", tc.args, errb.String(), tc.want)
		}
	}
	var out bytes.Buffer
	dispatch([]string{"help"}, nil, &out, &out)
	if strings.Contains(out.String(), "policy-worker") {
		t.Errorf("usage lists the internal policy-worker command:\n%s", out.String())
	}
}

func TestParseNow(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2026-01-01T00:00:00Z", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"1767225600", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"1767225600.5", time.Date(2026, 1, 1, 0, 0, 0, 5e8, time.UTC)},
	} {
		got, err := parseNow(tc.in)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseNow(%q) = %v, %v", tc.in, got, err)
		}
	}
	for _, bad := range []string{"yesterday", "12abc", "1767225600 "} {
		if _, err := parseNow(bad); err == nil {
			t.Errorf("parseNow accepted %q", bad)
		}
	}
}
