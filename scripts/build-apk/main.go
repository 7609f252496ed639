// build-apk makes apk-tools v3 packages and repository indexes without
// apk-tools (Debian has none), for scripts/build-apk.sh. Its subcommands take
// the options of the apk applets they stand in for:
//
//	build-apk mkpkg --info KEY:VALUE... [--script TYPE:FILE]... [--files DIR]
//	                --output FILE [--sign-key KEY.pem]
//	build-apk mkndx --output packages.adb [--sign-key KEY.pem] [--description TEXT] PKG.apk...
//	build-apk verify [--key PUB.pem]... FILE...
//	build-apk dump FILE
//	build-apk pubkey --sign-key KEY.pem
//
// mkpkg's info keys are those OpenWrt's package-pack.mk passes: name,
// version, description, arch, license, origin, url, maintainer, depends,
// provides, provider-priority. Every file's mtime is SOURCE_DATE_EPOCH, which
// must be set, and owners are root: two runs over the same tree give the
// same bytes. Signing keys are EC P-256 or RSA PEM files (openssl genpkey).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nodekeeper/nodekeeper/internal/apkadb"
)

const usage = `usage: build-apk mkpkg --info KEY:VALUE... [--script TYPE:FILE]... [--files DIR] --output FILE [--sign-key KEY]
       build-apk mkndx --output FILE [--sign-key KEY] [--description TEXT] PKG...
       build-apk verify [--key PUB.pem]... FILE...
       build-apk dump FILE
       build-apk pubkey --sign-key KEY`

// maxInput bounds every file this tool reads (packages, keys, scripts).
const maxInput = 256 << 20

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "mkpkg":
		err = mkpkg(args[1:], stderr)
	case "mkndx":
		err = mkndx(args[1:], stderr)
	case "verify":
		err = verify(args[1:], stdout, stderr)
	case "dump":
		err = dump(args[1:], stdout)
	case "pubkey":
		err = pubkey(args[1:], stdout, stderr)
	default:
		fmt.Fprintln(stderr, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "build-apk %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// list is a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

// readFile reads a regular file named on the command line through the
// size limit.
func readFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", p)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if len(b) > maxInput {
		return nil, fmt.Errorf("%s: larger than %d bytes", p, maxInput)
	}
	return b, nil
}

// writeAtomic writes b to p through a temporary file in the same directory.
func writeAtomic(p string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), ".build-apk-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}

func loadKeys(paths []string) ([]*apkadb.Key, error) {
	var keys []*apkadb.Key
	for _, p := range paths {
		b, err := readFile(p)
		if err != nil {
			return nil, err
		}
		k, err := apkadb.ParseKey(b)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", p, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func mkpkg(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("build-apk mkpkg", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var infos, scripts, signKeys list
	fs.Var(&infos, "info", "KEY:VALUE package info (repeatable)")
	fs.Var(&scripts, "script", "TYPE:FILE maintainer script (repeatable)")
	fs.Var(&signKeys, "sign-key", "private key PEM to sign with (repeatable)")
	files := fs.String("files", "", "directory tree the package installs")
	output := fs.String("output", "", "package file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *output == "" || fs.NArg() != 0 {
		return errors.New("want --output FILE and no arguments")
	}
	epoch := os.Getenv("SOURCE_DATE_EPOCH")
	mtime, err := strconv.ParseUint(epoch, 10, 32)
	if err != nil {
		return fmt.Errorf("SOURCE_DATE_EPOCH %q: want a number of seconds (the mtime of every file)", epoch)
	}
	spec := &apkadb.PackageSpec{Files: *files, Mtime: mtime, Scripts: map[string][]byte{}}
	seen := map[string]bool{}
	for _, kv := range infos {
		k, v, ok := strings.Cut(kv, ":")
		if !ok {
			return fmt.Errorf("--info %q: want KEY:VALUE", kv)
		}
		if seen[k] {
			return fmt.Errorf("--info %s given twice", k)
		}
		seen[k] = true
		switch k {
		case "name":
			spec.Name = v
		case "version":
			spec.Version = v
		case "description":
			spec.Description = v
		case "arch":
			spec.Arch = v
		case "license":
			spec.License = v
		case "origin":
			spec.Origin = v
		case "url":
			spec.URL = v
		case "maintainer":
			spec.Maintainer = v
		case "depends":
			spec.Depends = v
		case "provides":
			spec.Provides = v
		case "provider-priority":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return fmt.Errorf("--info provider-priority:%s: not a number", v)
			}
			spec.ProviderPriority = n
		default:
			return fmt.Errorf("--info %s: unknown key", k)
		}
	}
	for _, s := range scripts {
		typ, p, ok := strings.Cut(s, ":")
		if !ok {
			return fmt.Errorf("--script %q: want TYPE:FILE", s)
		}
		b, err := readFile(p)
		if err != nil {
			return fmt.Errorf("--script %s: %w", typ, err)
		}
		spec.Scripts[typ] = b
	}
	if spec.Keys, err = loadKeys(signKeys); err != nil {
		return err
	}
	out, err := apkadb.BuildPackage(spec)
	if err != nil {
		return err
	}
	return writeAtomic(*output, out)
}

func mkndx(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("build-apk mkndx", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var signKeys list
	fs.Var(&signKeys, "sign-key", "private key PEM to sign with (repeatable)")
	output := fs.String("output", "", "index file to write")
	desc := fs.String("description", "", "index description")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *output == "" || fs.NArg() == 0 {
		return errors.New("want --output FILE and the packages")
	}
	keys, err := loadKeys(signKeys)
	if err != nil {
		return err
	}
	var pkgs []apkadb.IndexEntry
	for _, p := range fs.Args() {
		b, err := readFile(p)
		if err != nil {
			return err
		}
		pkgs = append(pkgs, apkadb.IndexEntry{Name: p, Data: b})
	}
	out, err := apkadb.BuildIndex(*desc, pkgs, keys)
	if err != nil {
		return err
	}
	return writeAtomic(*output, out)
}

func parseFile(p string) (*apkadb.File, error) {
	b, err := readFile(p)
	if err != nil {
		return nil, err
	}
	f, err := apkadb.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return f, nil
}

func verify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("build-apk verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var keyFiles list
	fs.Var(&keyFiles, "key", "public key PEM to trust (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var keys []*apkadb.PublicKey
	for _, p := range keyFiles {
		b, err := readFile(p)
		if err != nil {
			return err
		}
		k, err := apkadb.ParsePublicKey(b)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		keys = append(keys, k)
	}
	for _, p := range fs.Args() {
		f, err := parseFile(p)
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := f.Verify(keys...); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			fmt.Fprintf(stdout, "%s: signature OK\n", p)
			continue
		}
		if f.Schema == apkadb.SchemaPackage {
			_, err = f.DecodePackage()
		} else {
			_, err = f.DecodeIndex()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		fmt.Fprintf(stdout, "%s: well-formed, %d signature blocks\n", p, len(f.Sigs))
	}
	return nil
}

func dump(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("want one FILE")
	}
	f, err := parseFile(args[0])
	if err != nil {
		return err
	}
	var v any
	if f.Schema == apkadb.SchemaPackage {
		v, err = f.DecodePackage()
	} else {
		v, err = f.DecodeIndex()
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func pubkey(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("build-apk pubkey", flag.ContinueOnError)
	fs.SetOutput(stderr)
	key := fs.String("sign-key", "", "private key PEM")
	if err := fs.Parse(args); err != nil {
		return err
	}
	keys, err := loadKeys([]string{*key})
	if err != nil {
		return err
	}
	b, err := keys[0].Public().PEM()
	if err != nil {
		return err
	}
	_, err = stdout.Write(b)
	return err
}
