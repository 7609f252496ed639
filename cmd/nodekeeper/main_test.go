package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

func TestDispatch(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		stdout   string // substring expected on stdout
		stderr   string // substring expected on stderr
	}{
		{"version", []string{"version"}, 0, runtime.GOARCH, ""},
		{"version extra arg", []string{"version", "x"}, 2, "", "usage: nodekeeper version"},
		{"no command", nil, 2, "", "usage: nodekeeper"},
		{"unknown", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"help", []string{"help"}, 0, "", "version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := dispatch(tt.args, strings.NewReader(""), &out, &errb)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.wantCode, errb.String())
			}
			if !strings.Contains(out.String(), tt.stdout) {
				t.Errorf("stdout %q lacks %q", out.String(), tt.stdout)
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", errb.String(), tt.stderr)
			}
		})
	}
}

func TestVersionNamesGoVersion(t *testing.T) {
	var out bytes.Buffer
	dispatch([]string{"version"}, nil, &out, &out)
	if !strings.Contains(out.String(), runtime.Version()) {
		t.Errorf("version output %q lacks %s", out.String(), runtime.Version())
	}
}
