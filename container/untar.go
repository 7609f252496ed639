package container

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"strings"
)

// decompress returns the tar stream inside r: plain is read here; gzip,
// xz, bzip2 and zstd go through the node's own tool when it has one (every
// OpenWrt image has busybox's gzip; compress/gzip cost 64 KB of the mips
// binary, docs/packaging.md). close waits for that tool.
func decompress(ctx context.Context, r io.Reader) (tr io.Reader, close func() error, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(6)
	nop := func() error { return nil }
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return viaTool(ctx, br, "gzip")
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return viaTool(ctx, br, "xz")
	case bytes.HasPrefix(magic, []byte("BZh")):
		return viaTool(ctx, br, "bzip2")
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return viaTool(ctx, br, "zstd")
	}
	return br, nop, nil
}

func viaTool(ctx context.Context, r io.Reader, tool string) (io.Reader, func() error, error) {
	if _, err := exec.LookPath(tool); err != nil {
		return nil, nil, fmt.Errorf("archive is %s-compressed and %s is not installed: %w", tool, tool, err)
	}
	cmd := exec.CommandContext(ctx, tool, "-dc")
	cmd.Stdin = r
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", tool, err)
	}
	return out, func() error {
		io.Copy(io.Discard, out)
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("%s -dc: %w: %s", tool, err, truncate(strings.TrimSpace(stderr.String()), 200))
		}
		return nil
	}, nil
}

// extractStats counts what an extraction skipped.
type extractStats struct {
	Files, Skipped int
}

// extract unpacks the (possibly compressed) tarball r into dir, which must
// exist. Every path stays inside dir, whatever the archive's names and
// symlinks say (os.Root). Ownership, modes and file times are kept.
// Device nodes and FIFOs are skipped: LXC fills /dev itself (lxc.autodev).
func extract(ctx context.Context, r io.Reader, dir string) (extractStats, error) {
	var st extractStats
	tr0, closeTool, err := decompress(ctx, r)
	if err != nil {
		return st, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		closeTool()
		return st, err
	}
	defer root.Close()
	err = extractTar(ctx, newTarReader(tr0), root, &st)
	if cerr := closeTool(); err == nil {
		err = cerr
	}
	return st, err
}

func extractTar(ctx context.Context, tr *tarReader, root *os.Root, st *extractStats) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tar: %w", err)
		}
		name := path.Clean("/" + h.name)[1:] // rooted: "../x" and "/x" land inside
		if name == "" {
			name = "."
		}
		if err := extractEntry(tr, root, name, h); err != nil {
			return fmt.Errorf("tar entry %q: %w", h.name, err)
		}
		if h.typ == tarChar || h.typ == tarBlockT || h.typ == tarFifo {
			st.Skipped++
		} else {
			st.Files++
		}
	}
}

func extractEntry(tr *tarReader, root *os.Root, name string, h *tarHeader) error {
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	mode := fs.FileMode(h.mode).Perm()
	if h.mode&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if h.mode&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if h.mode&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	switch h.typ {
	case tarDir:
		if name != "." {
			if err := root.Mkdir(name, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			if fi, err := root.Lstat(name); err != nil {
				return err
			} else if !fi.IsDir() {
				return fmt.Errorf("exists and is not a directory")
			}
		}
		return setOwnerMode(root, name, h, mode)
	case tarReg:
		removeExisting(root, name)
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := setOwnerMode(root, name, h, mode); err != nil {
			return err
		}
		return root.Chtimes(name, h.atime, h.mtime)
	case tarSymlink:
		removeExisting(root, name)
		if err := root.Symlink(h.linkname, name); err != nil {
			return err
		}
		return root.Lchown(name, h.uid, h.gid)
	case tarLink:
		removeExisting(root, name)
		return root.Link(path.Clean("/" + h.linkname)[1:], name)
	case tarChar, tarBlockT, tarFifo:
		return nil
	}
	return nil // other entry types (contiguous files, GNU volume headers ...)
}

func removeExisting(root *os.Root, name string) {
	if fi, err := root.Lstat(name); err == nil && !fi.IsDir() {
		root.Remove(name)
	}
}

// setOwnerMode sets owner first: chown clears setuid and setgid bits.
func setOwnerMode(root *os.Root, name string, h *tarHeader, mode fs.FileMode) error {
	if err := root.Lchown(name, h.uid, h.gid); err != nil {
		return err
	}
	return root.Chmod(name, mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
}
