package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodekeeper/nodekeeper/internal/apkadb"
)

const vectors = "../../internal/apkadb/testdata/vectors"

// TestMkpkgCommandLine runs mkpkg with the command line of the vectors'
// README (apk mkpkg's, as OpenWrt calls it) over the vector's files and gets
// apk-tools' ADB block; mkndx over the vector packages indexes them as apk
// mkndx does, and verify checks the signature.
func TestMkpkgCommandLine(t *testing.T) {
	vec, err := os.ReadFile(filepath.Join(vectors, "hello-1.0-r1.apk"))
	if err != nil {
		t.Fatal(err)
	}
	vf, err := apkadb.Parse(vec)
	if err != nil {
		t.Fatal(err)
	}
	vp, err := vf.DecodePackage()
	if err != nil {
		t.Fatal(err)
	}
	// The files and scripts the vector was made from.
	dir := t.TempDir()
	idir := filepath.Join(dir, "IDIR")
	content := map[[2]uint32][]byte{}
	for _, d := range vf.Data {
		content[[2]uint32{d.Path, d.File}] = d.Content
	}
	for i, d := range vp.Paths {
		if err := os.MkdirAll(filepath.Join(idir, d.Name), 0o755); err != nil {
			t.Fatal(err)
		}
		for j, e := range d.Files {
			p := filepath.Join(idir, d.Name, e.Name)
			if err := os.WriteFile(p, content[[2]uint32{uint32(i + 1), uint32(j + 1)}], 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, os.FileMode(e.ACL.Mode)); err != nil {
				t.Fatal(err)
			}
		}
	}
	args := []string{"mkpkg", "--info", "name:hello", "--info", "version:1.0-r1",
		"--info", "description:Hello is a tiny test package printing a greeting.",
		"--info", "arch:x86_64", "--info", "license:GPL-2.0-or-later", "--info", "origin:package/utils/hello",
		"--info", "url:https://example.org/hello", "--info", "maintainer:Test Maintainer <test@example.org>"}
	for _, s := range []string{"post-install", "post-upgrade", "pre-deinstall"} {
		p := filepath.Join(dir, s)
		if err := os.WriteFile(p, []byte(vp.Scripts[s]), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--script", s+":"+p)
	}
	out := filepath.Join(dir, "hello-1.0-r1.apk")
	args = append(args, "--info", "depends:libc", "--files", idir, "--output", out)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	var o, e bytes.Buffer
	if code := run(args, &o, &e); code != 0 {
		t.Fatalf("mkpkg: exit %d: %s", code, e.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	f, err := apkadb.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.ADB, vf.ADB) {
		t.Error("mkpkg's ADB block differs from apk mkpkg's")
	}

	// mkndx, signed; verify with the public key pubkey prints.
	key := filepath.Join(dir, "key.pem")
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	// As `openssl ecparam -genkey -noout` writes it.
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	idx := filepath.Join(dir, "packages.adb")
	// The vector packages themselves: an index holds each file's size, and
	// our deflate does not make apk's bytes.
	if code := run([]string{"mkndx", "--sign-key", key, "--output", idx, filepath.Join(vectors, "hello-1.0-r1.apk"),
		filepath.Join(vectors, "hello-1.1-r1.apk")}, &o, &e); code != 0 {
		t.Fatalf("mkndx: exit %d: %s", code, e.String())
	}
	pub := filepath.Join(dir, "key.pub")
	o.Reset()
	if code := run([]string{"pubkey", "--sign-key", key}, &o, &e); code != 0 {
		t.Fatalf("pubkey: %s", e.String())
	}
	if err := os.WriteFile(pub, o.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	o.Reset()
	if code := run([]string{"verify", "--key", pub, idx}, &o, &e); code != 0 || !strings.Contains(o.String(), "signature OK") {
		t.Errorf("verify: exit %d: %s%s", code, o.String(), e.String())
	}
	xb, _ := os.ReadFile(idx)
	xf, err := apkadb.Parse(xb)
	if err != nil {
		t.Fatal(err)
	}
	vb, _ := os.ReadFile(filepath.Join(vectors, "packages.adb"))
	vx, _ := apkadb.Parse(vb)
	if !bytes.Equal(xf.ADB, vx.ADB) {
		t.Error("mkndx's ADB block differs from apk mkndx's")
	}
	// The vectors' key does not verify ours.
	if code := run([]string{"verify", "--key", filepath.Join(vectors, "packages.adb.public-key.pem"), idx}, &o, &e); code == 0 {
		t.Error("verify accepted an index signed by another key")
	}
}

// TestCommandLineRejects: bad options fail with a message naming them.
func TestCommandLineRejects(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	out := filepath.Join(dir, "x.apk")
	base := []string{"mkpkg", "--info", "name:x", "--info", "version:1.0-r1", "--info", "arch:noarch", "--output", out}
	for _, c := range []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"unknown info", append(base, "--info", "color:red"), "", "unknown key"},
		{"info twice", append(base, "--info", "name:y"), "", "given twice"},
		{"no colon", append(base, "--info", "name"), "", "want KEY:VALUE"},
		{"bad version", append(base[:3:3], "--info", "version:1.0-1", "--info", "arch:noarch", "--output", out), "", "version"},
		{"missing script", append(base, "--script", "post-install:"+filepath.Join(dir, "none")), "", "no such file"},
		{"no SOURCE_DATE_EPOCH", base, "unset", "SOURCE_DATE_EPOCH"},
		{"unknown command", []string{"mkfoo"}, "", "usage"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.env == "unset" {
				t.Setenv("SOURCE_DATE_EPOCH", "")
			}
			var o, e bytes.Buffer
			if code := run(c.args, &o, &e); code == 0 || !strings.Contains(e.String(), c.want) {
				t.Errorf("exit %d, stderr %q: want a failure mentioning %q", code, e.String(), c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s written", out)
			}
		})
	}
}
