package openwrtpackage

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// makeVar returns the value of NAME:= in the feed Makefile, with
// backslash-continued lines joined.
func makeVar(t *testing.T, mk, name string) string {
	t.Helper()
	joined := strings.ReplaceAll(mk, "\\\n", " ")
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(name) + `:=(.*)$`).FindStringSubmatch(joined)
	if m == nil {
		t.Fatalf("feed Makefile lacks %s:=", name)
	}
	return strings.Join(strings.Fields(m[1]), " ")
}

// TestFeedMakefile checks the feed Makefile against the module it builds
// and the files it installs.
func TestFeedMakefile(t *testing.T) {
	root := repoRoot(t)
	mk := string(readFile(t, "nodekeeper/Makefile"))
	module := regexp.MustCompile(`(?m)^module (\S+)$`).FindStringSubmatch(string(readFile(t, filepath.Join(root, "go.mod"))))
	if module == nil {
		t.Fatal("go.mod has no module line")
	}
	if got := makeVar(t, mk, "GO_PKG"); got != module[1] {
		t.Errorf("GO_PKG %q, want the module %q", got, module[1])
	}
	if got := makeVar(t, mk, "GO_PKG_BUILD_PKG"); got != "$(GO_PKG)/cmd/nodekeeper" {
		t.Errorf("GO_PKG_BUILD_PKG %q, want $(GO_PKG)/cmd/nodekeeper", got)
	}
	ldx := makeVar(t, mk, "GO_PKG_LDFLAGS_X")
	version := string(readFile(t, filepath.Join(root, "cmd/nodekeeper/version.go")))
	for _, v := range []string{"version", "commit"} {
		if !strings.Contains(ldx, "main."+v+"=") {
			t.Errorf("GO_PKG_LDFLAGS_X %q does not set main.%s", ldx, v)
		}
		if !regexp.MustCompile(`(?m)^\s*` + v + `\s+= `).MatchString(version) {
			t.Errorf("cmd/nodekeeper/version.go has no variable %s for GO_PKG_LDFLAGS_X to set", v)
		}
	}
	deps := makeVar(t, mk, "DEPENDS")
	if !strings.HasPrefix(deps, "$(GO_ARCH_DEPENDS)") || !strings.Contains(deps, "+NODEKEEPER_LXC:lxc-start") {
		t.Errorf("DEPENDS %q: want $(GO_ARCH_DEPENDS) and LXC behind the NODEKEEPER_LXC option", deps)
	}
	for _, s := range []string{
		"include $(TOPDIR)/feeds/packages/lang/golang/golang-package.mk",
		"$(eval $(call GoBinPackage,nodekeeper))",
		"$(eval $(call BuildPackage,nodekeeper))",
		"$(INSTALL_CONF) ./files/nodekeeper.config $(1)/etc/config/nodekeeper",
		"$(INSTALL_BIN) ./files/nodekeeper.init $(1)/etc/init.d/nodekeeper",
		"$(INSTALL_DATA) ./files/nodekeeper.uci-defaults $(1)/etc/uci-defaults/nodekeeper",
		"$(1)/etc/nodekeeper/policies",
		"../files/policies/*",
	} {
		if !strings.Contains(mk, s) {
			t.Errorf("feed Makefile lacks %q", s)
		}
	}
	for _, m := range regexp.MustCompile(`\s\./files/(\S+)`).FindAllStringSubmatch(mk, -1) {
		if _, err := os.Stat(filepath.Join("nodekeeper/files", m[1])); err != nil {
			t.Errorf("feed Makefile installs %s: %v", m[0], err)
		}
	}
	checkVariants(t, mk, string(readFile(t, filepath.Join(root, "scripts/cross.sh"))))
	conf := regexp.MustCompile(`(?s)define Package/nodekeeper/conffiles\n(.*?)\nendef`).FindStringSubmatch(mk)
	// The node's identity and its seq floor are made by the agent, not
	// shipped: as conffiles they are kept across sysupgrade (keep.d).
	if conf == nil || conf[1] != "/etc/config/nodekeeper\n/etc/nodekeeper/policies/\n/etc/nodekeeper/state/identity.sec\n/etc/nodekeeper/state/remote.json" {
		t.Errorf("conffiles: %q, want /etc/config/nodekeeper, /etc/nodekeeper/policies/, the identity and remote.json of /etc/nodekeeper/state", conf)
	}
}

// TestDefaultConfig reads the default /etc/config/nodekeeper with a strict
// reading of the subset of UCI it may use (named sections, single-quoted
// options) and checks the sections and options the agent starts from.
func TestDefaultConfig(t *testing.T) {
	f, err := os.Open("nodekeeper/files/nodekeeper.config")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	section := regexp.MustCompile(`^config ([a-z_]+) '([a-z_]+)'$`)
	option := regexp.MustCompile(`^\toption ([a-z_]+) '([^'\n]*)'$`)
	got := map[string]map[string]string{}
	var cur string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#"):
		case section.MatchString(line):
			m := section.FindStringSubmatch(line)
			if m[1] != m[2] {
				t.Errorf("line %d: section %s named %s, want type and name alike", n, m[1], m[2])
			}
			cur = m[2]
			got[cur] = map[string]string{}
		case option.MatchString(line) && cur != "":
			m := option.FindStringSubmatch(line)
			if m[2] == "" {
				t.Errorf("line %d: option %s is empty, which UCI ignores: comment it out instead", n, m[1])
			}
			got[cur][m[1]] = m[2]
		default:
			t.Errorf("line %d: %q is not a comment, a named section or a quoted option", n, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"agent":     {"log_level", "state_dir"},
		"telemetry": {"broker", "prefix", "interval"},
		"policy":    {"dir", "cpu_budget", "memory_budget"},
		"slivers":   {"state_dir"},
		"remote":    {},
		"network":   {},
	}
	for s, opts := range want {
		for _, o := range opts {
			if _, ok := got[s][o]; !ok {
				t.Errorf("section %s lacks option %s", s, o)
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("sections %v, want agent, telemetry, policy, slivers, remote and network", got)
	}
	if d := got["policy"]["dir"]; d != "/etc/nodekeeper/policies" {
		t.Errorf("policy dir %q, want /etc/nodekeeper/policies, where the package installs the examples", d)
	}
}

// checkVariants checks the nodekeeper and nodekeeper-ssl variants of the
// feed Makefile and that it builds with scripts/cross.sh's -gcflags.
func checkVariants(t *testing.T, mk, cross string) {
	t.Helper()
	block := func(name string) string {
		m := regexp.MustCompile(`(?s)\ndefine Package/` + regexp.QuoteMeta(name) + `\n(.*?)\nendef`).FindStringSubmatch(mk)
		if m == nil {
			t.Fatalf("feed Makefile lacks define Package/%s", name)
		}
		return m[1]
	}
	for _, v := range []struct {
		name       string
		has, lacks []string
	}{
		{"nodekeeper", []string{"$(call Package/nodekeeper/default)", "VARIANT:=notls"}, []string{"PROVIDES", "CONFLICTS"}},
		{"nodekeeper-ssl", []string{"$(call Package/nodekeeper/default)", "VARIANT:=ssl", "PROVIDES:=nodekeeper", "CONFLICTS:=nodekeeper"}, nil},
	} {
		b := block(v.name)
		for _, h := range v.has {
			if !strings.Contains(b, h) {
				t.Errorf("Package/%s lacks %q:\n%s", v.name, h, b)
			}
		}
		for _, l := range v.lacks {
			if strings.Contains(b, l) {
				t.Errorf("Package/%s has %s:\n%s", v.name, l, b)
			}
		}
	}
	for _, s := range []string{
		"$(eval $(call GoBinPackage,nodekeeper-ssl))",
		"$(eval $(call BuildPackage,nodekeeper-ssl))",
		"Package/nodekeeper-ssl/install = $(Package/nodekeeper/install)",
		"Package/nodekeeper-ssl/conffiles = $(Package/nodekeeper/conffiles)",
		"define Package/nodekeeper-ssl/description",
		"$(call GoPackage/Build/Compile,$(NODEKEEPER_GCFLAGS))",
		"depends on PACKAGE_nodekeeper || PACKAGE_nodekeeper-ssl",
	} {
		if !strings.Contains(mk, s) {
			t.Errorf("feed Makefile lacks %q", s)
		}
	}
	if got := makeVar(t, mk, "GO_PKG_TAGS"); got != "$(if $(filter notls,$(BUILD_VARIANT)),nk_notls)" {
		t.Errorf("GO_PKG_TAGS %q: want nk_notls for the notls variant only", got)
	}
	if got := makeVar(t, mk, "PKG_BUILD_DIR"); !strings.Contains(got, "$(BUILD_VARIANT)") {
		t.Errorf("PKG_BUILD_DIR %q: each variant needs its own build directory", got)
	}
	// The same no-inlining patterns as scripts/cross.sh, in the same order.
	m := regexp.MustCompile(`NK_GCFLAGS=\$\{NK_GCFLAGS-([^}]*)\}`).FindStringSubmatch(cross)
	if m == nil {
		t.Fatal("scripts/cross.sh has no NK_GCFLAGS default")
	}
	var want []string
	for _, g := range strings.Fields(m[1]) {
		want = append(want, "-gcflags="+strings.Replace(g, "github.com/nodekeeper/nodekeeper/", "$(GO_PKG)/", 1))
	}
	if got := makeVar(t, mk, "NODEKEEPER_GCFLAGS"); got != strings.Join(want, " ") {
		t.Errorf("NODEKEEPER_GCFLAGS %q, want scripts/cross.sh's %q", got, strings.Join(want, " "))
	}
}
