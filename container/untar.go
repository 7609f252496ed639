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
// binary, docs/packaging.md). close waits for that tool; with abort (the
// archive was refused) it stops it first.
func decompress(ctx context.Context, r io.Reader) (tr io.Reader, close func(abort bool) error, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(6)
	nop := func(bool) error { return nil }
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

// maxTrailing bounds what a tool's output may hold after the end of the
// tar archive (tar pads to its record size, 10 KiB by default): a stream
// that goes on (a bomb behind a small archive) is stopped, not read to
// its end.
const maxTrailing = 1 << 20

func viaTool(ctx context.Context, r io.Reader, tool string) (io.Reader, func(abort bool) error, error) {
	if _, err := exec.LookPath(tool); err != nil {
		return nil, nil, fmt.Errorf("archive is %s-compressed and %s is not installed: %w", tool, tool, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, tool, "-dc")
	cmd.Stdin = r
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("%s: %w", tool, err)
	}
	return out, func(abort bool) error {
		defer cancel()
		if abort {
			cancel()
			cmd.Wait()
			return nil
		}
		if n, _ := io.CopyN(io.Discard, out, maxTrailing+1); n > maxTrailing {
			cancel()
			cmd.Wait()
			return fmt.Errorf("%w: more than %d bytes after the end of the tar archive", errTooBig, maxTrailing)
		}
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("%s -dc: %w: %s", tool, err, truncate(strings.TrimSpace(stderr.String()), 200))
		}
		return nil
	}, nil
}

// extractStats counts what an extraction skipped.
type extractStats struct {
	Files, Skipped int
	// Bytes are the regular files' contents written (their sizes, sparse
	// files at their full size).
	Bytes int64
}

// unpackLimits bound what one archive may unpack to: the bytes of its
// files (a gzip of zeros unpacks 1000 to 1) and its entries (inodes).
type unpackLimits struct {
	bytes   int64
	entries int
}

// DefaultMaxUnpackedBytes bounds what one template or data archive
// unpacks to when Config.MaxUnpackedBytes is zero.
const DefaultMaxUnpackedBytes = 4 << 30

// maxEntries bounds the entries (files, directories, links) of one
// archive: far above any router's rootfs, far below what fills a
// filesystem's inodes.
const maxEntries = 1 << 20

// errTooBig is wrapped by an extraction that went past its limits.
var errTooBig = errors.New("archive unpacks to more than allowed")

// extract unpacks the (possibly compressed) tarball r into dir, which must
// exist. Every path stays inside dir, whatever the archive's names and
// symlinks say (os.Root). Ownership, modes and file times are kept.
// Device nodes and FIFOs are skipped: LXC fills /dev itself (lxc.autodev).
// Files larger in sum than lim.bytes, or more than lim.entries entries,
// stop it with errTooBig before they are written.
func extract(ctx context.Context, r io.Reader, dir string, lim unpackLimits) (extractStats, error) {
	var st extractStats
	tr0, closeTool, err := decompress(ctx, r)
	if err != nil {
		return st, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		closeTool(true)
		return st, err
	}
	defer root.Close()
	if lim.bytes <= 0 {
		lim.bytes = DefaultMaxUnpackedBytes
	}
	if lim.entries <= 0 {
		lim.entries = maxEntries
	}
	err = extractTar(ctx, newTarReader(tr0), root, &st, lim)
	if cerr := closeTool(err != nil); err == nil {
		err = cerr
	}
	return st, err
}

func extractTar(ctx context.Context, tr *tarReader, root *os.Root, st *extractStats, lim unpackLimits) error {
	for entries := 1; ; entries++ {
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
		if entries > lim.entries {
			return fmt.Errorf("%w: more than %d entries", errTooBig, lim.entries)
		}
		if h.typ == tarReg {
			// The size in the header is what the reader gives (sparse
			// files are refused), so the sum is checked before any is
			// written.
			if h.size < 0 || h.size > lim.bytes-st.Bytes {
				return fmt.Errorf("%w: files of more than %d bytes (at %q)", errTooBig, lim.bytes, h.name)
			}
			st.Bytes += h.size
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
