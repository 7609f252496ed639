package openwrtpackage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// controlOrder is the order package-pack.mk writes control fields in.
var controlOrder = []string{
	"Package", "Version", "Depends", "Conflicts", "Provides", "Alternatives", "Source",
	"SourceName", "License", "LicenseFiles", "Section", "Require-User", "SourceDateEpoch",
	"URL", "ABIVersion", "CPE-ID", "Essential", "Maintainer", "Architecture",
	"Installed-Size", "Description",
}

// requiredControl are the fields every nodekeeper package must carry.
var requiredControl = []string{
	"Package", "Version", "Depends", "Source", "SourceName", "License", "Section",
	"SourceDateEpoch", "Architecture", "Installed-Size", "Description",
}

const postinst = `#!/bin/sh
[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
default_postinst $0 $@
`

const prerm = `#!/bin/sh
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
default_prerm $0 $@
`

// buildIPK runs scripts/build-ipk.sh with env added to the environment.
func buildIPK(root string, env ...string) (stdout, stderr string, err error) {
	cmd := exec.Command("sh", "-c", `umask "${TEST_UMASK:-022}"; exec scripts/build-ipk.sh`)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

type tarEntry struct {
	hdr  *tar.Header
	body []byte
}

// readTarGz reads a gzip'd tar whole and checks what ipkg-build's
// `gzip -n` and `tar --format=gnu --numeric-owner` make of every member.
func readTarGz(t *testing.T, what string, b []byte, epoch int64) []tarEntry {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: not gzip: %v", what, err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("%s: gzip header has name %q, mtime %v: want none (gzip -n)", what, zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	var out []tarEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("%s: %s: %v", what, h.Name, err)
		}
		if h.Format != tar.FormatGNU {
			t.Errorf("%s: %s: format %v, want GNU", what, h.Name, h.Format)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: %s: owner %d/%d %q/%q, want numeric 0/0", what, h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if h.ModTime.Unix() != epoch {
			t.Errorf("%s: %s: mtime %d, want SOURCE_DATE_EPOCH %d", what, h.Name, h.ModTime.Unix(), epoch)
		}
		out = append(out, tarEntry{h, body})
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return out
}

type field struct{ key, value string }

// parseControl splits a control stanza into its fields in order; a
// continuation line (starting with a space) belongs to the field before.
func parseControl(t *testing.T, text string) []field {
	t.Helper()
	var fs []field
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if strings.HasPrefix(line, " ") && len(fs) > 0 {
			fs[len(fs)-1].value += "\n" + line
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("control line %q is not 'Key: value'", line)
		}
		fs = append(fs, field{k, v})
	}
	return fs
}

func fieldMap(fs []field) map[string]string {
	m := map[string]string{}
	for _, f := range fs {
		m[f.key] = f.value
	}
	return m
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gitEpoch(t *testing.T, root string) int64 {
	t.Helper()
	cmd := exec.Command("git", "log", "-1", "--format=%ct")
	cmd.Dir = root
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("git log: %v", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// examplePolicies lists openwrt-package/files/policies, which the package
// installs into /etc/nodekeeper/policies.
func examplePolicies(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("files/policies")
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

type dataEntry struct {
	name string
	mode int64
	dir  bool
	body []byte // nil: not compared
}

// wantData is the data.tar.gz of package pkg for binary bin, in tar order.
func wantData(t *testing.T, pkg string, bin []byte) []dataEntry {
	t.Helper()
	files := "nodekeeper/files/"
	want := []dataEntry{
		{"./", 0o755, true, nil},
		{"./etc/", 0o755, true, nil},
		{"./etc/config/", 0o755, true, nil},
		{"./etc/config/nodekeeper", 0o600, false, readFile(t, files+"nodekeeper.config")},
		{"./etc/init.d/", 0o755, true, nil},
		{"./etc/init.d/nodekeeper", 0o755, false, readFile(t, files+"nodekeeper.init")},
		{"./etc/nodekeeper/", 0o755, true, nil},
		{"./etc/nodekeeper/policies/", 0o755, true, nil},
	}
	for _, p := range examplePolicies(t) {
		want = append(want, dataEntry{"./etc/nodekeeper/policies/" + p, 0o644, false, readFile(t, "files/policies/"+p)})
	}
	return append(want,
		dataEntry{"./etc/uci-defaults/", 0o755, true, nil},
		dataEntry{"./etc/uci-defaults/nodekeeper", 0o644, false, readFile(t, files+"nodekeeper.uci-defaults")},
		dataEntry{"./lib/", 0o755, true, nil},
		dataEntry{"./lib/upgrade/", 0o755, true, nil},
		dataEntry{"./lib/upgrade/keep.d/", 0o755, true, nil},
		dataEntry{"./lib/upgrade/keep.d/" + pkg, 0o644, false, []byte("/etc/nodekeeper/policies/\n/etc/nodekeeper/state/identity.sec\n/etc/nodekeeper/state/remote.json\n")},
		dataEntry{"./usr/", 0o755, true, nil},
		dataEntry{"./usr/bin/", 0o755, true, nil},
		dataEntry{"./usr/bin/nodekeeper", 0o755, false, bin},
		dataEntry{"./usr/libexec/", 0o755, true, nil},
		dataEntry{"./usr/libexec/rpcd/", 0o755, true, nil},
		dataEntry{"./usr/libexec/rpcd/nodekeeper", 0o755, false, readFile(t, files+"nodekeeper.rpcd")},
	)
}

// wantLuciData is the data.tar.gz of luci-app-nodekeeper: htdocs/ under
// /www, root/ under /, as luci.mk installs them.
func wantLuciData(t *testing.T) []dataEntry {
	t.Helper()
	want := []dataEntry{{"./", 0o755, true, nil}}
	for _, f := range luciFiles(t) {
		want = append(want, dataEntry{"./" + f.path, f.mode, f.dir, f.body})
	}
	return want
}

// ownPostinst is the postinst-pkg of nodekeeper (rpcd reloads its plugins)
// and of luci-app-nodekeeper (as luci.mk's, LuCI's caches dropped too).
var ownPostinst = map[string]string{
	"nodekeeper": "#!/bin/sh\n[ -n \"${IPKG_INSTROOT}\" ] || killall -HUP rpcd 2>/dev/null\nexit 0\n",
	"luci-app-nodekeeper": "#!/bin/sh\n[ -n \"${IPKG_INSTROOT}\" ] || {\nrm -f /tmp/luci-indexcache.*\n" +
		"rm -rf /tmp/luci-modulecache/\nkillall -HUP rpcd 2>/dev/null\nexit 0\n}\n",
}

func wantConffiles(t *testing.T) string {
	t.Helper()
	s := "/etc/config/nodekeeper\n"
	for _, p := range examplePolicies(t) {
		s += "/etc/nodekeeper/policies/" + p + "\n"
	}
	return s
}

// TestIPK builds the packages (both variants) twice from the same binaries
// and checks that the builds are byte-identical, that each .ipk has
// ipkg-build's layout, control fields (nodekeeper-ssl provides and conflicts
// with nodekeeper), conffiles, maintainer scripts and files, and that the
// feed index describes the packages.
func TestIPK(t *testing.T) {
	for _, c := range []string{"tar", "gzip", "xz", "git"} {
		requireCommand(t, c)
	}
	root := repoRoot(t)
	dist := distWith(t, "mips", "amd64")
	goarchs := map[string]string{ // package architecture -> GOARCH
		"mips_24kc": "mips",
		"x86_64":    "amd64",
	}
	epoch := gitEpoch(t, root)
	version := strings.TrimSpace(string(readFile(t, filepath.Join(root, "VERSION"))))
	out1, out2 := filepath.Join(dist, "ipk1"), filepath.Join(dist, "ipk2")
	stdout, stderr, err := buildIPK(root, "DIST="+dist, "OUT="+out1, "ARCHS=mips_24kc x86_64")
	if err != nil {
		t.Fatalf("build-ipk.sh: %v\n%s%s", err, stdout, stderr)
	}
	t.Logf("build-ipk.sh:\n%s", stdout)
	// A second build in another time zone and with another umask.
	if stdout, stderr, err := buildIPK(root, "DIST="+dist, "OUT="+out2, "ARCHS=mips_24kc x86_64",
		"TZ=Pacific/Chatham", "TEST_UMASK=077"); err != nil {
		t.Fatalf("second build-ipk.sh: %v\n%s%s", err, stdout, stderr)
	}

	t.Run("reproducible", func(t *testing.T) {
		names1, names2 := dirNames(t, out1), dirNames(t, out2)
		if strings.Join(names1, " ") != strings.Join(names2, " ") {
			t.Fatalf("builds made %v and %v", names1, names2)
		}
		for _, n := range names1 {
			if !bytes.Equal(readFile(t, filepath.Join(out1, n)), readFile(t, filepath.Join(out2, n))) {
				t.Errorf("%s differs between two builds", n)
			}
		}
	})

	controls := map[string][]field{}
	npkgs := 0
	for _, v := range variants {
		for arch, goarch := range goarchs {
			npkgs++
			name := fmt.Sprintf("%s_%s-r1_%s.ipk", v.pkg, version, arch)
			binPath := filepath.Join(dist, v.prefix+goarch)
			t.Run(v.pkg+"/"+arch, func(t *testing.T) {
				ipk := readFile(t, filepath.Join(out1, name))
				outer := readTarGz(t, name, ipk, epoch)
				var names []string
				members := map[string][]byte{}
				for _, e := range outer {
					names = append(names, e.hdr.Name)
					members[e.hdr.Name] = e.body
					if e.hdr.Typeflag != tar.TypeReg || e.hdr.Mode != 0o644 {
						t.Errorf("%s: type %c mode %o, want a 0644 file", e.hdr.Name, e.hdr.Typeflag, e.hdr.Mode)
					}
				}
				if got := strings.Join(names, " "); got != "./debian-binary ./data.tar.gz ./control.tar.gz" {
					t.Fatalf("outer members %s, want ./debian-binary ./data.tar.gz ./control.tar.gz", got)
				}
				if string(members["./debian-binary"]) != "2.0\n" {
					t.Errorf("debian-binary is %q", members["./debian-binary"])
				}

				ctl := readTarGz(t, "control.tar.gz", members["./control.tar.gz"], epoch)
				wantCtl := []dataEntry{
					{"./", 0o755, true, nil},
					{"./conffiles", 0o644, false, []byte(wantConffiles(t))},
					{"./control", 0o644, false, nil},
					{"./postinst", 0o755, false, []byte(postinst)},
					{"./postinst-pkg", 0o755, false, []byte(ownPostinst["nodekeeper"])},
					{"./prerm", 0o755, false, []byte(prerm)},
				}
				checkEntries(t, "control.tar.gz", ctl, wantCtl)
				var control string
				for _, e := range ctl {
					if e.hdr.Name == "./control" {
						control = string(e.body)
					}
				}
				fs := parseControl(t, control)
				controls[name] = fs
				checkFieldOrder(t, fs)
				f := fieldMap(fs)
				dataTar := gunzip(t, members["./data.tar.gz"])
				want := map[string]string{
					"Package":         v.pkg,
					"Version":         version + "-r1",
					"Depends":         "libc",
					"Source":          "feeds/nodekeeper/nodekeeper",
					"SourceName":      "nodekeeper",
					"License":         "Apache-2.0",
					"Section":         "net",
					"SourceDateEpoch": strconv.FormatInt(epoch, 10),
					"Architecture":    arch,
					"Installed-Size":  strconv.Itoa(len(dataTar)),
				}
				if v.cross == "ssl" { // an OpenWrt variant of nodekeeper
					want["Provides"], want["Conflicts"] = "nodekeeper", "nodekeeper"
				} else {
					want["Provides"], want["Conflicts"] = "", ""
				}
				for k, w := range want {
					if f[k] != w {
						t.Errorf("control %s: %q, want %q", k, f[k], w)
					}
				}
				if !strings.HasPrefix(control, "Package: "+v.pkg+"\n") || !strings.Contains(control, "\nDescription:  nodekeeper is the agent") {
					t.Errorf("control does not start with Package or lacks the description as package-pack.mk writes it:\n%s", control)
				}
				if tls := map[string]string{"": "This build has no TLS", "ssl": "This build speaks TLS"}[v.cross]; !strings.Contains(control, tls) {
					t.Errorf("description does not say %q:\n%s", tls, control)
				}

				data := readTarGz(t, "data.tar.gz", members["./data.tar.gz"], epoch)
				checkEntries(t, "data.tar.gz", data, wantData(t, v.pkg, readFile(t, binPath)))
			})
		}
	}

	npkgs++
	luciName := fmt.Sprintf("luci-app-nodekeeper_%s-r1_all.ipk", version)
	t.Run("luci-app-nodekeeper", func(t *testing.T) {
		members := map[string][]byte{}
		for _, e := range readTarGz(t, luciName, readFile(t, filepath.Join(out1, luciName)), epoch) {
			members[e.hdr.Name] = e.body
		}
		ctl := readTarGz(t, "control.tar.gz", members["./control.tar.gz"], epoch)
		checkEntries(t, "control.tar.gz", ctl, []dataEntry{
			{"./", 0o755, true, nil},
			{"./control", 0o644, false, nil},
			{"./postinst", 0o755, false, []byte(postinst)},
			{"./postinst-pkg", 0o755, false, []byte(ownPostinst["luci-app-nodekeeper"])},
			{"./prerm", 0o755, false, []byte(prerm)},
		})
		fs := parseControl(t, string(ctl[1].body))
		controls[luciName] = fs
		checkFieldOrder(t, fs)
		f := fieldMap(fs)
		for k, w := range map[string]string{
			"Package": "luci-app-nodekeeper", "Version": version + "-r1", "Depends": "libc, luci-base, nodekeeper",
			"Source": "feeds/nodekeeper/luci-app-nodekeeper", "SourceName": "luci-app-nodekeeper", "License": "Apache-2.0",
			"Section": "luci", "Architecture": "all", "Description": " LuCI page for the nodekeeper node agent",
			"Installed-Size": strconv.Itoa(len(gunzip(t, members["./data.tar.gz"]))),
		} {
			if f[k] != w {
				t.Errorf("control %s: %q, want %q", k, f[k], w)
			}
		}
		checkEntries(t, "data.tar.gz", readTarGz(t, "data.tar.gz", members["./data.tar.gz"], epoch), wantLuciData(t))
	})

	t.Run("index", func(t *testing.T) {
		packages := readFile(t, filepath.Join(out1, "Packages"))
		if got := gunzip(t, readFile(t, filepath.Join(out1, "Packages.gz"))); !bytes.Equal(got, packages) {
			t.Errorf("Packages.gz does not hold Packages")
		}
		stanzas := strings.Split(strings.TrimSuffix(string(packages), "\n\n"), "\n\n")
		if len(stanzas) != npkgs {
			t.Fatalf("Packages has %d stanzas, want %d:\n%s", len(stanzas), npkgs, packages)
		}
		seen := map[string]bool{}
		for _, s := range stanzas {
			fs := parseControl(t, s+"\n")
			f := fieldMap(fs)
			name := f["Filename"]
			ctl, ok := controls[name]
			if !ok {
				t.Errorf("index names %q, not a package built", name)
				continue
			}
			seen[name] = true
			ipk := readFile(t, filepath.Join(out1, name))
			sum := sha256.Sum256(ipk)
			if f["Size"] != strconv.Itoa(len(ipk)) || f["SHA256sum"] != hex.EncodeToString(sum[:]) {
				t.Errorf("%s: index Size %s SHA256sum %s, file has %d %x", name, f["Size"], f["SHA256sum"], len(ipk), sum)
			}
			// The stanza is the control with Filename, Size and SHA256sum
			// before Description, as ipkg-make-index.sh writes it.
			var want []field
			for _, c := range ctl {
				if c.key == "Description" {
					want = append(want, field{"Filename", name}, field{"Size", f["Size"]}, field{"SHA256sum", f["SHA256sum"]})
				}
				want = append(want, c)
			}
			if fmt.Sprint(fs) != fmt.Sprint(want) {
				t.Errorf("%s: index stanza\n%v\nwant\n%v", name, fs, want)
			}
		}
		if len(seen) != npkgs {
			t.Errorf("index covers %v, want every package built", seen)
		}
	})
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func checkFieldOrder(t *testing.T, fs []field) {
	t.Helper()
	pos := map[string]int{}
	for i, k := range controlOrder {
		pos[k] = i
	}
	last := -1
	for _, f := range fs {
		p, ok := pos[f.key]
		if !ok {
			t.Errorf("control field %s is not one package-pack.mk writes", f.key)
			continue
		}
		if p <= last {
			t.Errorf("control field %s out of OpenWrt's order %v", f.key, controlOrder)
		}
		last = p
	}
	m := fieldMap(fs)
	for _, k := range requiredControl {
		if _, ok := m[k]; !ok {
			t.Errorf("control lacks %s", k)
		}
	}
}

func checkEntries(t *testing.T, what string, got []tarEntry, want []dataEntry) {
	t.Helper()
	var gn, wn []string
	for _, e := range got {
		gn = append(gn, e.hdr.Name)
	}
	for _, w := range want {
		wn = append(wn, w.name)
	}
	if strings.Join(gn, "\n") != strings.Join(wn, "\n") {
		t.Fatalf("%s members:\n%s\nwant (in this order):\n%s", what, strings.Join(gn, "\n"), strings.Join(wn, "\n"))
	}
	for i, w := range want {
		h := got[i].hdr
		wantType := byte(tar.TypeReg)
		if w.dir {
			wantType = tar.TypeDir
		}
		if h.Typeflag != wantType || h.Mode != w.mode {
			t.Errorf("%s: %s: type %c mode %o, want %c %o", what, w.name, h.Typeflag, h.Mode, wantType, w.mode)
		}
		if w.body != nil && !bytes.Equal(got[i].body, w.body) {
			t.Errorf("%s: %s: content differs from the source file (%d bytes, want %d)", what, w.name, len(got[i].body), len(w.body))
		}
	}
}

// TestIPKRejects checks that build-ipk.sh refuses a binary that would not
// run on the routers, that is the other variant's, or that breaks a flash
// budget.
func TestIPKRejects(t *testing.T) {
	for _, c := range []string{"tar", "gzip", "xz"} {
		requireCommand(t, c)
	}
	root := repoRoot(t)
	good := distWith(t, "mips")
	mips := testBinary(t, "mips", "")
	mipsSSL := testBinary(t, "mips", "ssl")
	amd64 := testBinary(t, "amd64", "")

	// padded: the real mips binaries with 9 MB of random bytes appended.
	padded := t.TempDir()
	pad := make([]byte, 9_000_000)
	if _, err := rand.Read(pad); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(padded, "nodekeeper-linux-mips"), append(readFile(t, mips), pad...))
	writeFile(t, filepath.Join(padded, "nodekeeper-ssl-linux-mips"), append(readFile(t, mipsSSL), pad...))

	// swapped: each variant's binary where the other's belongs.
	swapped := t.TempDir()
	writeFile(t, filepath.Join(swapped, "nodekeeper-linux-mips"), readFile(t, mipsSSL))
	writeFile(t, filepath.Join(swapped, "nodekeeper-ssl-linux-mips"), readFile(t, mips))

	// wrongArch: an amd64 binary where the mips one belongs.
	wrongArch := t.TempDir()
	writeFile(t, filepath.Join(wrongArch, "nodekeeper-linux-mips"), readFile(t, amd64))

	// hardfloat: a (small) mips Go program built without GOMIPS=softfloat.
	hardfloat := t.TempDir()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(hardfloat, "nodekeeper-linux-mips"), "./testdata/hello")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=mips", "GOMIPS=hardfloat")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hardfloat build: %v\n%s", err, b)
	}

	tests := []struct {
		name  string
		env   []string
		want  []string // all in stderr
		other string   // a file of another kind in OUT, which must stay
	}{
		{"mips binary and ipk over the default budget", []string{"DIST=" + padded, "PACKAGES=nodekeeper"},
			[]string{"over budget: nodekeeper mips binary", "budget 8000000", "over budget: nodekeeper_", "budget 3000000"}, ""},
		{"ssl mips binary and ipk over their default budget", []string{"DIST=" + padded, "PACKAGES=nodekeeper-ssl"},
			[]string{"over budget: nodekeeper-ssl mips binary", "budget 10500000", "over budget: nodekeeper-ssl_", "budget 4000000"}, ""},
		{"mips binary over a lowered budget", []string{"DIST=" + good, "BUDGET_MIPS_BIN=1000000"},
			[]string{"over budget: nodekeeper mips binary", "budget 1000000"}, ""},
		{"ipk over a lowered budget", []string{"DIST=" + good, "BUDGET_IPK=100000"},
			[]string{"over budget: nodekeeper_", "_mips_24kc.ipk", "budget 100000"}, ""},
		{"ssl binary over a lowered budget", []string{"DIST=" + good, "BUDGET_SSL_MIPS_BIN=8000000"},
			[]string{"over budget: nodekeeper-ssl mips binary", "budget 8000000"}, ""},
		{"ssl ipk over a lowered budget", []string{"DIST=" + good, "BUDGET_SSL_IPK=3000000"},
			[]string{"over budget: nodekeeper-ssl_", "budget 3000000"}, ""},
		{"TLS binary as nodekeeper", []string{"DIST=" + swapped, "PACKAGES=nodekeeper"}, []string{"built with TLS, but package nodekeeper is the build without"}, ""},
		{"binary without TLS as nodekeeper-ssl", []string{"DIST=" + swapped, "PACKAGES=nodekeeper-ssl"}, []string{"built without TLS (-tags nk_notls), but package nodekeeper-ssl"}, ""},
		{"unknown package", []string{"DIST=" + good, "PACKAGES=nodekeeper-tiny"}, []string{"unknown package nodekeeper-tiny"}, ""},
		{"amd64 binary as mips", []string{"DIST=" + wrongArch, "PACKAGES=nodekeeper"}, []string{"is not a linux/mips ELF binary"}, ""},
		{"hardfloat mips", []string{"DIST=" + hardfloat, "PACKAGES=nodekeeper"}, []string{"GOMIPS=softfloat"}, ""},
		{"missing binary", []string{"DIST=" + t.TempDir()}, []string{"missing: run 'make cross' first"}, ""},
		{"unknown architecture", []string{"DIST=" + good, "ARCHS=mips_74kc"}, []string{"unknown package architecture mips_74kc"}, ""},
		{"bad release", []string{"DIST=" + good, "RELEASE=r1"}, []string{"release 'r1' is not a number"}, ""},
		{"budget not a number", []string{"DIST=" + good, "BUDGET_IPK=3MB"}, []string{"BUDGET_IPK '3MB' is not a number of bytes"}, ""},
		{"output holds other files", []string{"DIST=" + good}, []string{"not a package or an index: not removing it"}, "notes.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// An older feed in OUT must not survive a failed build.
			out := filepath.Join(t.TempDir(), "ipk")
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(out, "Packages"), []byte("stale\n"))
			if tt.other != "" {
				writeFile(t, filepath.Join(out, tt.other), []byte("keep me\n"))
			}
			env := append([]string{"OUT=" + out, "ARCHS=mips_24kc"}, tt.env...)
			stdout, stderr, err := buildIPK(root, env...)
			if err == nil {
				t.Fatalf("build-ipk.sh succeeded, want failure\n%s", stdout)
			}
			if tt.other != "" {
				if _, err := os.Stat(filepath.Join(out, tt.other)); err != nil {
					t.Errorf("%s in OUT is gone: %v", tt.other, err)
				}
			} else if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s left behind after a failed build (stat: %v)", out, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestIPKVersion checks the Version field follows VERSION and RELEASE and
// that SOURCE_DATE_EPOCH, when given, sets every mtime.
func TestIPKVersion(t *testing.T) {
	for _, c := range []string{"tar", "gzip", "xz"} {
		requireCommand(t, c)
	}
	root := repoRoot(t)
	dist := distWith(t, "mips")
	version := strings.TrimSpace(string(readFile(t, filepath.Join(root, "VERSION"))))
	epoch := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).Unix()
	out := filepath.Join(dist, "ipk")
	if stdout, stderr, err := buildIPK(root, "DIST="+dist, "OUT="+out, "ARCHS=mips_24kc", "RELEASE=7",
		"SOURCE_DATE_EPOCH="+strconv.FormatInt(epoch, 10)); err != nil {
		t.Fatalf("build-ipk.sh: %v\n%s%s", err, stdout, stderr)
	}
	name := fmt.Sprintf("nodekeeper_%s-r7_mips_24kc.ipk", version)
	outer := readTarGz(t, name, readFile(t, filepath.Join(out, name)), epoch)
	for _, e := range outer {
		if e.hdr.Name != "./control.tar.gz" {
			continue
		}
		for _, c := range readTarGz(t, "control.tar.gz", e.body, epoch) {
			if c.hdr.Name == "./control" {
				f := fieldMap(parseControl(t, string(c.body)))
				if f["Version"] != version+"-r7" || f["SourceDateEpoch"] != strconv.FormatInt(epoch, 10) {
					t.Errorf("Version %q SourceDateEpoch %q, want %s-r7 and %d", f["Version"], f["SourceDateEpoch"], version, epoch)
				}
			}
		}
	}
}

// TestIPKBudgetScope: the .ipk budgets are for flash: an x86_64 package is
// reported but not held to them.
func TestIPKBudgetScope(t *testing.T) {
	for _, c := range []string{"tar", "gzip", "xz"} {
		requireCommand(t, c)
	}
	root := repoRoot(t)
	dist := distWith(t, "amd64")
	out := filepath.Join(dist, "ipk")
	stdout, stderr, err := buildIPK(root, "DIST="+dist, "OUT="+out, "ARCHS=x86_64", "BUDGET_IPK=100000", "BUDGET_SSL_IPK=100000")
	if err != nil {
		t.Fatalf("build-ipk.sh held x86_64 to the flash budget: %v\n%s%s", err, stdout, stderr)
	}
	for _, w := range []string{"nodekeeper      x86_64", "nodekeeper-ssl  x86_64", "(x86_64 .ipk not counted)"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("report lacks %q:\n%s", w, stdout)
		}
	}
}
