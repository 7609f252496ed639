package openwrtpackage

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/nodekeeper/nodekeeper/internal/apkadb"
)

// apkTool is scripts/build-apk, built once per test run.
var (
	apkToolOnce sync.Once
	apkToolPath string
	apkToolErr  error
)

func apkTool(t *testing.T) string {
	t.Helper()
	apkToolOnce.Do(func() {
		apkToolPath = filepath.Join(binDir, "build-apk")
		cmd := exec.Command("go", "build", "-o", apkToolPath, "./scripts/build-apk")
		cmd.Dir = repoRoot(t)
		if b, err := cmd.CombinedOutput(); err != nil {
			apkToolErr = fmt.Errorf("building scripts/build-apk: %v\n%s", err, b)
		}
	})
	if apkToolErr != nil {
		t.Fatal(apkToolErr)
	}
	return apkToolPath
}

// buildAPK runs scripts/build-apk.sh with env added to the environment.
func buildAPK(t *testing.T, root string, env ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command("sh", "-c", `umask "${TEST_UMASK:-022}"; exec scripts/build-apk.sh`)
	cmd.Dir = root
	cmd.Env = append(append(os.Environ(), "BUILD_APK="+apkTool(t)), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// signingKey writes a private key PEM as `openssl genpkey` does (PKCS#8):
// "ec" P-256 or "ed25519", which apk refuses.
func signingKey(t *testing.T, kind string) string {
	t.Helper()
	var k any
	var err error
	switch kind {
	case "ec":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ed25519":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), kind+".pem")
	writeFile(t, p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	return p
}

// apkEntry is a path an .apk installs: a directory (mode) or a file (mode,
// content).
type apkEntry struct {
	mode uint32
	dir  bool
	body []byte
}

// wantAPKTree is what the .apk of pkg installs: the .ipk's files plus
// package-pack.mk's /lib/apk/packages files.
func wantAPKTree(t *testing.T, pkg string, ipkData []dataEntry) map[string]apkEntry {
	t.Helper()
	tree := map[string]apkEntry{}
	var files []string
	for _, d := range ipkData {
		p := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(d.name, "."), "/"), "/")
		tree[p] = apkEntry{uint32(d.mode), d.dir, d.body}
		if !d.dir {
			files = append(files, "/"+p)
		}
	}
	sort.Strings(files)
	tree["lib"] = apkEntry{0o755, true, nil}
	tree["lib/apk"] = apkEntry{0o755, true, nil}
	tree["lib/apk/packages"] = apkEntry{0o755, true, nil}
	tree["lib/apk/packages/"+pkg+".list"] = apkEntry{0o644, false, []byte(strings.Join(files, "\n") + "\n")}
	if pkg != "luci-app-nodekeeper" {
		cfg := readFile(t, "nodekeeper/files/nodekeeper.config")
		sum := sha256.Sum256(cfg)
		tree["lib/apk/packages/"+pkg+".conffiles"] = apkEntry{0o644, false, []byte("/etc/config/nodekeeper\n/etc/nodekeeper/policies/\n" +
			"/etc/nodekeeper/state/identity.sec\n/etc/nodekeeper/state/remote.json\n")}
		// Only the conffiles the package ships as plain files are static:
		// the identity and remote.json are made by the agent on the node.
		tree["lib/apk/packages/"+pkg+".conffiles_static"] = apkEntry{0o644, false,
			[]byte("/etc/config/nodekeeper " + hex.EncodeToString(sum[:]) + "\n")}
	}
	return tree
}

// apkScripts are package-pack.mk's scripts for pkg.
func apkScripts(pkg string) map[string]string {
	own := strings.TrimPrefix(ownPostinst[strings.TrimSuffix(pkg, "-ssl")], "#!/bin/sh\n")
	postInstall := "#!/bin/sh\n[ \"${IPKG_NO_SCRIPT}\" = \"1\" ] && exit 0\n[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n" +
		". ${IPKG_INSTROOT}/lib/functions.sh\nexport root=\"${IPKG_INSTROOT}\"\nexport pkgname=\"" + pkg + "\"\n" +
		"add_group_and_user\ndefault_postinst\n" + own
	return map[string]string{
		"post-install": postInstall,
		"post-upgrade": "#!/bin/sh\nexport PKG_UPGRADE=1\n" + strings.TrimPrefix(postInstall, "#!/bin/sh\n"),
		"pre-deinstall": "#!/bin/sh\n[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n. ${IPKG_INSTROOT}/lib/functions.sh\n" +
			"export root=\"${IPKG_INSTROOT}\"\nexport pkgname=\"" + pkg + "\"\ndefault_prerm\n",
	}
}

// checkAPKTree compares a decoded package's paths, modes, owners, mtimes
// and file contents (from its data blocks) with want.
func checkAPKTree(t *testing.T, f *apkadb.File, p *apkadb.Package, want map[string]apkEntry, epoch int64) {
	t.Helper()
	got := map[string]apkEntry{}
	content := map[[2]uint32][]byte{}
	for _, d := range f.Data {
		content[[2]uint32{d.Path, d.File}] = d.Content
	}
	for i, d := range p.Paths {
		got[d.Name] = apkEntry{d.ACL.Mode, true, nil}
		if d.ACL.User != "root" || d.ACL.Group != "root" {
			t.Errorf("%s/: owner %s:%s, want root:root", d.Name, d.ACL.User, d.ACL.Group)
		}
		for j, e := range d.Files {
			body := content[[2]uint32{uint32(i + 1), uint32(j + 1)}]
			if body == nil {
				body = []byte{}
			}
			got[apkadb.Path(d.Name, e.Name)] = apkEntry{e.ACL.Mode, false, body}
			sum := sha256.Sum256(body)
			if uint64(len(body)) != e.Size || !bytes.Equal(sum[:], e.Hash) || e.Mtime != uint64(epoch) {
				t.Errorf("%s: size %d hash %x mtime %d; data block has %d bytes, sha256 %x; want mtime %d",
					apkadb.Path(d.Name, e.Name), e.Size, e.Hash, e.Mtime, len(body), sum, epoch)
			}
		}
	}
	var gk, wk []string
	for k := range got {
		gk = append(gk, k)
	}
	for k := range want {
		wk = append(wk, k)
	}
	sort.Strings(gk)
	sort.Strings(wk)
	if !reflect.DeepEqual(gk, wk) {
		t.Fatalf("paths\n%s\nwant\n%s", strings.Join(gk, "\n"), strings.Join(wk, "\n"))
	}
	for k, w := range want {
		g := got[k]
		if g.dir != w.dir || g.mode != w.mode || (w.body != nil && !bytes.Equal(g.body, w.body)) {
			t.Errorf("%s: dir %v mode %o (%d bytes), want dir %v mode %o (%d bytes)", k, g.dir, g.mode, len(g.body), w.dir, w.mode, len(w.body))
		}
	}
}

func parseAPK(t *testing.T, path string) (*apkadb.File, []byte) {
	t.Helper()
	b := readFile(t, path)
	f, err := apkadb.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f, b
}

// TestAPK builds the apk repositories (both variants, the LuCI app, mips and
// x86_64) twice and reads everything back: the packages' info, files,
// OpenWrt's /lib/apk/packages files and maintainer scripts, and each
// architecture's signed index. Two builds give the same package bytes and
// the same index content.
func TestAPK(t *testing.T) {
	for _, c := range []string{"xz", "git", "sha256sum"} {
		requireCommand(t, c)
	}
	root := repoRoot(t)
	dist := distWith(t, "mips", "amd64")
	key := signingKey(t, "ec")
	epoch := gitEpoch(t, root)
	version := strings.TrimSpace(string(readFile(t, filepath.Join(root, "VERSION"))))
	pkgver := version + "-r1"
	out1, out2 := filepath.Join(dist, "apk1"), filepath.Join(dist, "apk2")
	stdout, stderr, err := buildAPK(t, root, "DIST="+dist, "OUT="+out1, "ARCHS=mips_24kc x86_64", "APK_SIGN_KEY="+key)
	if err != nil {
		t.Fatalf("build-apk.sh: %v\n%s%s", err, stdout, stderr)
	}
	t.Logf("build-apk.sh:\n%s", stdout)
	if stdout, stderr, err := buildAPK(t, root, "DIST="+dist, "OUT="+out2, "ARCHS=mips_24kc x86_64", "APK_SIGN_KEY="+key,
		"TZ=Pacific/Chatham", "TEST_UMASK=077"); err != nil {
		t.Fatalf("second build-apk.sh: %v\n%s%s", err, stdout, stderr)
	}
	pub, err := apkadb.ParsePublicKey(readFile(t, filepath.Join(out1, "keys", "nodekeeper.pem")))
	if err != nil {
		t.Fatalf("keys/nodekeeper.pem: %v", err)
	}
	archs := map[string]string{"mips_24kc": "mips", "x86_64": "amd64"}

	t.Run("reproducible", func(t *testing.T) {
		for arch := range archs {
			for _, n := range []string{"nodekeeper", "nodekeeper-ssl", "luci-app-nodekeeper"} {
				name := filepath.Join(arch, n+"-"+pkgver+".apk")
				if !bytes.Equal(readFile(t, filepath.Join(out1, name)), readFile(t, filepath.Join(out2, name))) {
					t.Errorf("%s differs between two builds", name)
				}
			}
			// The index's ECDSA signature differs at every run; what it
			// signs may not.
			i1, _ := parseAPK(t, filepath.Join(out1, arch, "packages.adb"))
			i2, _ := parseAPK(t, filepath.Join(out2, arch, "packages.adb"))
			if !bytes.Equal(i1.ADB, i2.ADB) {
				t.Errorf("%s/packages.adb: index content differs between two builds", arch)
			}
		}
		// Unsigned, the packages are the same bytes.
		o1, o2 := filepath.Join(dist, "apk-u1"), filepath.Join(dist, "apk-u2")
		for i, o := range []string{o1, o2} {
			env := []string{"DIST=" + dist, "OUT=" + o, "ARCHS=mips_24kc", "PACKAGES=nodekeeper luci-app-nodekeeper"}
			if i == 1 {
				env = append(env, "TZ=Asia/Kolkata", "TEST_UMASK=027")
			}
			if stdout, stderr, err := buildAPK(t, root, env...); err != nil {
				t.Fatalf("unsigned build-apk.sh: %v\n%s%s", err, stdout, stderr)
			}
		}
		for _, n := range []string{"nodekeeper-" + pkgver + ".apk", "luci-app-nodekeeper-" + pkgver + ".apk", "packages.adb"} {
			if !bytes.Equal(readFile(t, filepath.Join(o1, "mips_24kc", n)), readFile(t, filepath.Join(o2, "mips_24kc", n))) {
				t.Errorf("unsigned %s differs between two builds", n)
			}
		}
	})

	for _, v := range variants {
		for arch, goarch := range archs {
			t.Run(v.pkg+"/"+arch, func(t *testing.T) {
				f, _ := parseAPK(t, filepath.Join(out1, arch, v.pkg+"-"+pkgver+".apk"))
				if len(f.Sigs) != 0 {
					t.Errorf("%d signatures: packages are checked against the signed index, unsigned as OpenWrt's", len(f.Sigs))
				}
				p, err := f.DecodePackage()
				if err != nil {
					t.Fatal(err)
				}
				desc := "nodekeeper is the agent of a community-network node: it enforces Lua policies, runs slivers as LXC containers, configures sliver and mesh interfaces through netlink and publishes telemetry over MQTT."
				if !strings.HasPrefix(p.Info.Description, desc) || strings.ContainsAny(p.Info.Description, "\n\t") {
					t.Errorf("description %q: want the Makefile's, on one line", p.Info.Description)
				}
				var provides []string
				if v.cross == "ssl" {
					provides = []string{"nodekeeper=" + pkgver}
				}
				got := p.Info
				if got.Name != v.pkg || got.Version != pkgver || got.Arch != arch || got.License != "Apache-2.0" ||
					got.Origin != "feeds/nodekeeper/nodekeeper" || got.URL != "https://github.com/nodekeeper/nodekeeper" ||
					!reflect.DeepEqual(got.Depends, []string{"libc"}) || !reflect.DeepEqual(got.Provides, provides) || len(got.Hashes) != 20 {
					t.Errorf("info %+v: want %s %s %s Apache-2.0, origin and URL, depends libc, provides %v", got, v.pkg, pkgver, arch, provides)
				}
				bin := readFile(t, filepath.Join(dist, v.prefix+goarch))
				tree := wantAPKTree(t, v.pkg, wantData(t, v.pkg, bin))
				var installed uint64
				for _, e := range tree {
					installed += uint64(len(e.body))
				}
				if got.InstalledSize != installed {
					t.Errorf("installed-size %d, want %d (the files' bytes)", got.InstalledSize, installed)
				}
				checkAPKTree(t, f, p, tree, epoch)
				if !reflect.DeepEqual(p.Scripts, apkScripts(v.pkg)) {
					t.Errorf("scripts\n%q\nwant\n%q", p.Scripts, apkScripts(v.pkg))
				}
			})
		}
	}

	t.Run("luci-app-nodekeeper", func(t *testing.T) {
		name := "luci-app-nodekeeper-" + pkgver + ".apk"
		f, b := parseAPK(t, filepath.Join(out1, "mips_24kc", name))
		if !bytes.Equal(b, readFile(t, filepath.Join(out1, "x86_64", name))) {
			t.Errorf("%s differs between the architectures' repositories", name)
		}
		if len(f.Sigs) != 0 {
			t.Errorf("%d signatures, want none", len(f.Sigs))
		}
		p, err := f.DecodePackage()
		if err != nil {
			t.Fatal(err)
		}
		i := p.Info
		if i.Name != "luci-app-nodekeeper" || i.Arch != "noarch" || i.Description != "LuCI page for the nodekeeper node agent" ||
			!reflect.DeepEqual(i.Depends, []string{"libc", "luci-base", "nodekeeper"}) || i.Origin != "feeds/nodekeeper/luci-app-nodekeeper" {
			t.Errorf("info %+v", i)
		}
		checkAPKTree(t, f, p, wantAPKTree(t, "luci-app-nodekeeper", wantLuciData(t)), epoch)
		if !reflect.DeepEqual(p.Scripts, apkScripts("luci-app-nodekeeper")) {
			t.Errorf("scripts\n%q\nwant\n%q", p.Scripts, apkScripts("luci-app-nodekeeper"))
		}
	})

	t.Run("index", func(t *testing.T) {
		for arch := range archs {
			x, _ := parseAPK(t, filepath.Join(out1, arch, "packages.adb"))
			if err := x.Verify(pub); err != nil {
				t.Errorf("%s/packages.adb: %v", arch, err)
			}
			other, _ := apkadb.ParsePublicKey(readFile(t, "../internal/apkadb/testdata/vectors/packages.adb.public-key.pem"))
			if x.Verify(other) == nil {
				t.Errorf("%s/packages.adb verifies with an unrelated key", arch)
			}
			idx, err := x.DecodeIndex()
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range idx.Packages {
				names = append(names, p.Name)
				f, b := parseAPK(t, filepath.Join(out1, arch, p.Name+"-"+p.Version+".apk"))
				sum := sha256.Sum256(f.ADB)
				if !bytes.Equal(p.Hashes, sum[:]) || p.FileSize != uint64(len(b)) {
					t.Errorf("%s: index hash %x size %d, file has ADB sha256 %x, %d bytes", p.Name, p.Hashes, p.FileSize, sum, len(b))
				}
				pk, _ := f.DecodePackage()
				want := pk.Info
				want.Hashes, want.FileSize = p.Hashes, p.FileSize
				if !reflect.DeepEqual(p, want) {
					t.Errorf("%s: index entry %+v, package info %+v", p.Name, p, want)
				}
			}
			if !reflect.DeepEqual(names, []string{"luci-app-nodekeeper", "nodekeeper", "nodekeeper-ssl"}) {
				t.Errorf("%s/packages.adb lists %v", arch, names)
			}
		}
	})
}

// TestAPKRejects: the flash budgets of build-ipk.sh hold for the .apk
// files; a key apk refuses and an output directory holding other files are
// refused. Nothing is written on failure.
func TestAPKRejects(t *testing.T) {
	requireCommand(t, "xz")
	root := repoRoot(t)
	good := distWith(t, "mips")
	padded := t.TempDir()
	pad := make([]byte, 9_000_000)
	if _, err := rand.Read(pad); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(padded, "nodekeeper-linux-mips"), append(readFile(t, testBinary(t, "mips", "")), pad...))
	for _, tt := range []struct {
		name  string
		env   []string
		want  []string
		other string
	}{
		{"mips binary and apk over the default budget", []string{"DIST=" + padded, "PACKAGES=nodekeeper"},
			[]string{"over budget: nodekeeper mips binary", "budget 8000000", "over budget: mips_24kc/nodekeeper-", "budget 3000000"}, ""},
		{"apk over a lowered budget", []string{"DIST=" + good, "PACKAGES=nodekeeper", "BUDGET_APK=100000"},
			[]string{"over budget: mips_24kc/nodekeeper-", "budget 100000"}, ""},
		{"ssl apk over the ipk budget it defaults to", []string{"DIST=" + good, "PACKAGES=nodekeeper-ssl", "BUDGET_SSL_IPK=2000000"},
			[]string{"over budget: mips_24kc/nodekeeper-ssl-", "budget 2000000"}, ""},
		{"Ed25519 key", []string{"DIST=" + good, "PACKAGES=luci-app-nodekeeper", "APK_SIGN_KEY=" + signingKey(t, "ed25519")},
			[]string{"not accepted by apk-tools"}, ""},
		{"output holds other files", []string{"DIST=" + good, "PACKAGES=luci-app-nodekeeper"}, []string{"not a package or an index: not removing it"}, "notes.txt"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "apk")
			if err := os.MkdirAll(filepath.Join(out, "mips_24kc"), 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(out, "mips_24kc", "packages.adb"), []byte("stale\n"))
			if tt.other != "" {
				writeFile(t, filepath.Join(out, tt.other), []byte("keep me\n"))
			}
			stdout, stderr, err := buildAPK(t, root, append([]string{"OUT=" + out, "ARCHS=mips_24kc"}, tt.env...)...)
			if err == nil {
				t.Fatalf("build-apk.sh succeeded, want failure\n%s", stdout)
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

	// x86_64 (disks, not flash) is reported, not held to the budgets.
	out := filepath.Join(t.TempDir(), "apk")
	dist := distWith(t, "amd64")
	stdout, stderr, err := buildAPK(t, root, "DIST="+dist, "OUT="+out, "ARCHS=x86_64", "BUDGET_APK=100000", "BUDGET_SSL_APK=100000")
	if err != nil {
		t.Fatalf("build-apk.sh held x86_64 to the flash budget: %v\n%s%s", err, stdout, stderr)
	}
	if !strings.Contains(stdout, "(x86_64 .apk not counted)") {
		t.Errorf("report lacks the x86_64 note:\n%s", stdout)
	}
}

// TestRouterBinaryNoADB: the ADB writer is for the build machine; the
// router binary does not link it.
func TestRouterBinaryNoADB(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./cmd/nodekeeper")
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if strings.Contains(string(out), "internal/apkadb") {
		t.Error("cmd/nodekeeper imports internal/apkadb")
	}
	if !strings.Contains(string(out), "github.com/nodekeeper/nodekeeper/agent\n") {
		t.Errorf("go list -deps ./cmd/nodekeeper lacks the agent: not the list it should be\n%s", out)
	}
}
