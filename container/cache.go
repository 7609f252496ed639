package container

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// ErrChecksum is wrapped by the error of an archive whose SHA-256 is not
// the one asked for.
var ErrChecksum = errors.New("sha256 mismatch")

// cache keeps templates and data archives by their SHA-256:
//
//	templates/<sha256>/rootfs     the unpacked template, shared read-only
//	templates/<sha256>/meta.json  where it came from; its mtime is the last use
//	data/<sha256>                 a verified data archive, as fetched
//	tmp/                          downloads in progress
//
// A template directory exists only once it is complete: it is unpacked
// beside and renamed into place.
type cache struct {
	dir     string
	fetcher *fetcher
	minFree int64
	log     *slog.Logger
	free    func(path string) (int64, error) // freeBytes; a seam for tests

	mu    sync.Mutex
	locks map[string]*sync.Mutex
	// unpack bounds what one archive unpacks to (Config.MaxUnpackedBytes).
	unpack unpackLimits
}

type templateMeta struct {
	URL     string    `json:"url"`
	Type    string    `json:"type,omitempty"`
	Fetched time.Time `json:"fetched"`
	Files   int       `json:"files"`
}

func newCache(dir string, f *fetcher, minFree int64, log *slog.Logger) (*cache, error) {
	for _, d := range []string{"templates", "data", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			return nil, fmt.Errorf("template cache: %w", err)
		}
	}
	// Downloads a crash interrupted.
	tmps, _ := os.ReadDir(filepath.Join(dir, "tmp"))
	for _, e := range tmps {
		os.RemoveAll(filepath.Join(dir, "tmp", e.Name()))
	}
	if f.max <= 0 {
		f.max = DefaultMaxArchiveBytes
	}
	return &cache{dir: dir, fetcher: f, minFree: minFree, log: log, free: freeBytes, locks: map[string]*sync.Mutex{}}, nil
}

// lock serialises work on one hash: two slivers of one template fetch it once.
func (c *cache) lock(hash string) func() {
	c.mu.Lock()
	l := c.locks[hash]
	if l == nil {
		l = &sync.Mutex{}
		c.locks[hash] = l
	}
	c.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (c *cache) templateDir(hash string) string { return filepath.Join(c.dir, "templates", hash) }

// Template returns the unpacked rootfs of a, fetching, verifying and
// unpacking it first if the cache lacks it.
func (c *cache) template(ctx context.Context, a Archive) (string, error) {
	defer c.lock(a.SHA256)()
	dir := c.templateDir(a.SHA256)
	if _, err := os.Stat(dir); err == nil {
		now := time.Now()
		os.Chtimes(filepath.Join(dir, "meta.json"), now, now)
		return filepath.Join(dir, "rootfs"), nil
	}
	file, err := c.fetch(ctx, a)
	if err != nil {
		return "", err
	}
	defer os.Remove(file)
	tmp, err := os.MkdirTemp(filepath.Join(c.dir, "tmp"), "template-")
	if err != nil {
		return "", fmt.Errorf("template %s: %w", a.URL, err)
	}
	defer os.RemoveAll(tmp)
	rootfs := filepath.Join(tmp, "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		return "", fmt.Errorf("template %s: %w", a.URL, err)
	}
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("template %s: %w", a.URL, err)
	}
	st, err := extract(ctx, f, rootfs, c.unpack)
	f.Close()
	if err != nil {
		return "", fmt.Errorf("template %s: unpack: %w", a.URL, err)
	}
	// The files on disk before the directory that says they are complete.
	if err := syncFS(tmp); err != nil {
		return "", fmt.Errorf("template %s: %w", a.URL, err)
	}
	meta, _ := json.Marshal(templateMeta{URL: a.URL, Type: a.Type, Fetched: time.Now().UTC(), Files: st.Files})
	if err := writeFileAtomic(filepath.Join(tmp, "meta.json"), meta, 0o640); err != nil {
		return "", fmt.Errorf("template %s: %w", a.URL, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", fmt.Errorf("template %s: %w", a.URL, err)
	}
	syncDir(filepath.Dir(dir))
	c.log.Info("template cached", "url", a.URL, "sha256", a.SHA256, "files", st.Files, "skipped_devices", st.Skipped)
	return filepath.Join(dir, "rootfs"), nil
}

// data returns the path of the verified data archive a, fetching it first
// if the cache lacks it.
func (c *cache) data(ctx context.Context, a Archive) (string, error) {
	defer c.lock(a.SHA256)()
	p := filepath.Join(c.dir, "data", a.SHA256)
	if _, err := os.Stat(p); err == nil {
		now := time.Now()
		os.Chtimes(p, now, now)
		return p, nil
	}
	file, err := c.fetch(ctx, a)
	if err != nil {
		return "", err
	}
	if err := syncFS(file); err != nil { // its bytes on disk before its name
		os.Remove(file)
		return "", fmt.Errorf("data archive %s: %w", a.URL, err)
	}
	if err := os.Rename(file, p); err != nil {
		os.Remove(file)
		return "", fmt.Errorf("data archive %s: %w", a.URL, err)
	}
	syncDir(filepath.Dir(p))
	return p, nil
}

// source is where an archive comes from: an http(s) URL or a local file.
type source struct {
	http string
	file string
}

// Local reports whether the archive names a file on the node (an
// absolute path or a file URL) rather than a download: a document from
// elsewhere may name one only if the node's owner lets it.
func (a Archive) Local() bool {
	src, err := parseSource(a.URL)
	return err == nil && src.file != ""
}

func parseSource(s string) (source, error) {
	if strings.HasPrefix(s, "/") {
		return source{file: filepath.Clean(s)}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return source{}, fmt.Errorf("%q: %w", s, err)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return source{}, fmt.Errorf("%q: no host", s)
		}
		return source{http: s}, nil
	case "file":
		if !strings.HasPrefix(u.Path, "/") || (u.Host != "" && u.Host != "localhost") {
			return source{}, fmt.Errorf("%q: a file URL needs an absolute local path (file:///path)", s)
		}
		return source{file: filepath.Clean(u.Path)}, nil
	}
	return source{}, fmt.Errorf("%q: want an http(s) or file URL or an absolute path", s)
}

// fetch copies a into a temp file under tmp/, hashing as it goes, and
// returns the file once its SHA-256 is the one asked for.
func (c *cache) fetch(ctx context.Context, a Archive) (string, error) {
	src, err := parseSource(a.URL)
	if err != nil {
		return "", err
	}
	var local *os.File
	if src.file != "" {
		if local, err = openRegular(src.file, c.fetcher.max); err != nil {
			return "", fmt.Errorf("archive %s: %w", a.URL, err)
		}
		defer local.Close()
	}
	f, err := os.CreateTemp(filepath.Join(c.dir, "tmp"), "fetch-")
	if err != nil {
		return "", fmt.Errorf("archive %s: %w", a.URL, err)
	}
	h := sha256.New()
	w := io.MultiWriter(f, h)
	if local != nil {
		// A local copy has the same time limit as a download.
		cctx, cancel := ctx, context.CancelFunc(func() {})
		if c.fetcher.timeout > 0 {
			cctx, cancel = context.WithTimeout(ctx, c.fetcher.timeout)
		}
		err = copyLimited(w, contextReader{cctx, local}, c.fetcher.max)
		cancel()
	} else {
		err = c.fetcher.fetch(ctx, src.http, w)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("archive %s: %w", a.URL, err)
	}
	// The hash found is never told: it is derived from a file the one who
	// named it may not read (a local path), and errors are published.
	if hex.EncodeToString(h.Sum(nil)) != a.SHA256 {
		os.Remove(f.Name())
		return "", fmt.Errorf("archive %s: %w (want %s)", a.URL, ErrChecksum, a.SHA256)
	}
	return f.Name(), nil
}

// contextReader stops a copy when its context ends (local files ignore
// cancellation otherwise).
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (cr contextReader) Read(p []byte) (int, error) {
	if err := cr.ctx.Err(); err != nil {
		return 0, err
	}
	return cr.r.Read(p)
}

// prune removes cached templates and data archives that no sliver uses,
// least recently used first, while free space on the cache's filesystem is
// below minFree. It returns the hashes removed.
func (c *cache) prune(inUse map[string]bool) ([]string, error) {
	free, err := c.free(c.dir)
	if err != nil {
		return nil, fmt.Errorf("template cache: %w", err)
	}
	if free >= c.minFree {
		return nil, nil
	}
	type entry struct {
		hash, path string
		used       time.Time
	}
	var ents []entry
	for _, kind := range []string{"templates", "data"} {
		des, err := os.ReadDir(filepath.Join(c.dir, kind))
		if err != nil {
			return nil, fmt.Errorf("template cache: %w", err)
		}
		for _, de := range des {
			if inUse[de.Name()] {
				continue
			}
			p := filepath.Join(c.dir, kind, de.Name())
			stamp := p
			if kind == "templates" {
				stamp = filepath.Join(p, "meta.json")
			}
			var used time.Time
			if fi, err := os.Stat(stamp); err == nil {
				used = fi.ModTime()
			}
			ents = append(ents, entry{de.Name(), p, used})
		}
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].used.Before(ents[j].used) })
	var removed []string
	for _, e := range ents {
		if free >= c.minFree {
			break
		}
		unlock := c.lock(e.hash)
		err := os.RemoveAll(e.path)
		unlock()
		if err != nil {
			return removed, fmt.Errorf("template cache: remove %s: %w", e.path, err)
		}
		removed = append(removed, e.hash)
		c.log.Info("stale template removed: disk low", "sha256", e.hash, "free_bytes", free, "min_free_bytes", c.minFree)
		if free, err = c.free(c.dir); err != nil {
			return removed, fmt.Errorf("template cache: %w", err)
		}
	}
	return removed, nil
}
