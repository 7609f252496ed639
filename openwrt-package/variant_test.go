package openwrtpackage

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVariantDeps: the nodekeeper package's build (-tags nk_notls) links
// neither crypto/tls nor net/http; the nodekeeper-ssl build has TLS but no
// net/http; neither has websockets or proxies (docs/packaging.md).
func TestVariantDeps(t *testing.T) {
	root := repoRoot(t)
	tests := []struct {
		name, tags string
		have, lack []string
	}{
		{"nodekeeper", "nk_notls", nil, []string{"crypto/tls", "crypto/x509", "net/http", "github.com/gorilla/websocket", "golang.org/x/net/proxy", "regexp"}},
		{"nodekeeper-ssl", "", []string{"crypto/tls", "github.com/eclipse/paho.mqtt.golang"}, []string{"net/http", "github.com/gorilla/websocket", "golang.org/x/net/proxy", "regexp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "-tags", tt.tags, "./cmd/nodekeeper")
			cmd.Dir = root
			cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOARCH=mips", "GOMIPS=softfloat", "CGO_ENABLED=0")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			deps := map[string]bool{}
			for _, d := range strings.Fields(string(out)) {
				deps[d] = true
			}
			for _, p := range tt.have {
				if !deps[p] {
					t.Errorf("%s lacks %s", tt.name, p)
				}
			}
			for _, p := range tt.lack {
				if deps[p] {
					t.Errorf("%s links %s", tt.name, p)
				}
			}
		})
	}
}

// TestVariantTLS runs both variants' binaries as scripts/cross.sh builds
// them: nodekeeper refuses TLS settings when it reads them, naming the
// package that has TLS; nodekeeper-ssl takes them (and here fails on the
// missing CA file, before it connects anywhere). `go version -m` shows
// which is which.
func TestVariantTLS(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "no-such-ca.pem")
	tests := []struct {
		variant string
		args    []string
		want    string
		notWant string
		tags    bool // built with -tags nk_notls
	}{
		{"", []string{"--broker", "ssl://127.0.0.1:1"}, "broker \"ssl://127.0.0.1:1\": this build has no TLS support; install nodekeeper-ssl", "", true},
		{"", []string{"--broker", "tcp://127.0.0.1:1", "--ca", ca}, "tls ca, cert or key file: this build has no TLS support; install nodekeeper-ssl", "", true},
		{"ssl", []string{"--broker", "ssl://127.0.0.1:1", "--ca", ca}, "tls ca file", "no TLS support", false},
	}
	for _, tt := range tests {
		name := "nodekeeper"
		if tt.variant != "" {
			name += "-" + tt.variant
		}
		t.Run(name+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			bin := testBinary(t, "amd64", tt.variant)
			cmd := exec.Command(bin, append([]string{"telemetry", "publish", "--node", "t1"}, tt.args...)...)
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
				t.Fatalf("exit %v, want 2 (bad config)\n%s", err, out)
			}
			if !strings.Contains(string(out), tt.want) || (tt.notWant != "" && strings.Contains(string(out), tt.notWant)) {
				t.Errorf("output %q, want %q", out, tt.want)
			}
			info, err := exec.Command("go", "version", "-m", bin).Output()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(string(info), "-tags=nk_notls"); got != tt.tags {
				t.Errorf("built with -tags nk_notls: %v, want %v\n%s", got, tt.tags, info)
			}
		})
	}
}
