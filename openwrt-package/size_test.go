package openwrtpackage

import (
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSizeReport runs scripts/size-report.sh for mips and checks that its
// account adds up and names where the bytes go.
func TestSizeReport(t *testing.T) {
	root := repoRoot(t)
	cmd := exec.Command("scripts/size-report.sh", "mips", "15")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("size-report.sh: %v\n%s", err, out)
	}
	t.Logf("size-report.sh mips:\n%s", out)
	text := string(out)
	m := regexp.MustCompile(`^nodekeeper linux/mips: (\d+) bytes stripped; (\d+) bytes in sized symbols, (-?\d+) in function tables \(\.gopclntab\)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("first line is not the summary:\n%s", text)
	}
	stripped, _ := strconv.Atoi(m[1])
	symbols, _ := strconv.Atoi(m[2])
	rest, _ := strconv.Atoi(m[3])
	if stripped < 500_000 || symbols <= 0 || rest <= 0 || symbols+rest != stripped {
		t.Errorf("stripped %d = symbols %d + rest %d does not add up", stripped, symbols, rest)
	}
	sections := map[string]string{}
	for _, s := range []string{"sections loaded", "by module", "by package", "largest symbols"} {
		i := strings.Index(text, "\n"+s)
		if i < 0 {
			t.Fatalf("report lacks the %q table", s)
		}
		body := text[i+1:]
		body = body[strings.Index(body, "\n")+1:]
		if j := strings.Index(body, "\n\n"); j >= 0 {
			body = body[:j]
		}
		sections[s] = body
	}
	row := regexp.MustCompile(`^\s*(\d+)\s+(\d+\.\d)%\s+(\S.*)$`)
	for _, s := range []string{"sections loaded", "by module", "by package"} {
		names := map[string]bool{}
		for _, line := range strings.Split(sections[s], "\n") {
			r := row.FindStringSubmatch(line)
			if r == nil {
				t.Errorf("%s: row %q is not 'bytes share name'", s, line)
				continue
			}
			names[r[3]] = true
		}
		want := map[string][]string{
			"sections loaded": {".text", ".rodata", ".gopclntab"},
			"by module":       {"std", "github.com/nodekeeper/nodekeeper"},
			"by package":      {"runtime", "github.com/yuin/gopher-lua"},
		}[s]
		for _, w := range want {
			if !names[w] {
				t.Errorf("%s table lacks %s:\n%s", s, w, sections[s])
			}
		}
	}
	if n := len(strings.Split(strings.TrimRight(sections["largest symbols"], "\n"), "\n")); n != 15 {
		t.Errorf("largest symbols lists %d, want 15", n)
	}
}
