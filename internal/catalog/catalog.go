// Package catalog loads a manifests directory: every file is checked against
// the trusted keys before it is parsed, so nothing downstream sees a byte
// that was not signed. The layout is DIR/<stream>/<release>.json and
// DIR/<stream>/<release>.revoked.json, each with a detached .sig beside it.
package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/parallel"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// Signed is a verified file: its exact bytes and signature, which are what
// gets published, never a second read of a file that may have changed.
type Signed struct {
	Path   string // slash-separated, relative to the manifests directory
	Name   string // what errors call it: the path as given (the directory joined with Path), or a store's key
	Key    string // the trusted key that verified it
	SHA256 string // of Data
	Data   []byte
	Sig    []byte
}

// Build is a verified build manifest.
type Build struct {
	*manifest.Build
	Signed
}

// Revocation is a verified revocation.
type Revocation struct {
	*manifest.Revocation
	Signed
}

// Catalog is every verified file of a manifests directory, in path order.
type Catalog struct {
	Dir         string
	Builds      []*Build
	Revocations []*Revocation
}

// Signed lists every verified file, builds first.
func (c *Catalog) Signed() []Signed {
	files := make([]Signed, 0, len(c.Builds)+len(c.Revocations))
	for _, x := range c.Builds {
		files = append(files, x.Signed)
	}
	for _, x := range c.Revocations {
		files = append(files, x.Signed)
	}
	return files
}

// Verifier checks a file's bytes against the contents of its .sig and names
// the key that signed it. *trust.Keyring is one.
type Verifier interface {
	Verify(data, sig []byte) (key string, err error)
}

var _ Verifier = (*trust.Keyring)(nil)

// Load verifies and parses every manifest in dir. It returns what verified
// along with an error that joins one error per bad file, each naming it; a
// caller that publishes must treat any error as fatal.
func Load(ctx context.Context, dir string, v Verifier) (*Catalog, error) {
	return NewLoader(v).Load(ctx, dir)
}

// Loader loads a manifests directory again and again, as serve does, and
// remembers what it verified. A file whose size, modification time and
// inode (and on Linux, change time) are those it had when it was read,
// beside a signature whose are too, is not read again; one whose bytes and
// signature hash the same as last time is not verified and parsed again.
// A file modified less than a second before it was read is read again
// each time, as a second write within the file system's clock tick would
// not change its stamp.
type Loader struct {
	// OnlyManifests reads the manifests of a directory that holds other
	// files too (release files with their images): directories below the
	// streams and files other than <stream>/*.json are left alone.
	OnlyManifests bool
	// MaxSize refuses larger files before reading them (zero:
	// manifest.DefaultMaxSize).
	MaxSize int64
	// Ignore are glob patterns (path.Match) of names an admin keeps beside
	// the manifests: a file or directory whose name, or whose path
	// relative to the directory, matches one is left alone. Anything else
	// out of place is an error.
	Ignore []string

	v     Verifier
	mu    sync.Mutex
	known map[string]loaded // by path
	// scan is when the running Load began.
	scan  time.Time
	reads atomic.Int64 // files read, for tests
}

type loaded struct {
	file *manifest.File
	Signed
	// data and sig are the files' stamps when they were read, at readAt.
	data, sig stamp
	readAt    time.Time
}

// stamp is what a write to a file changes: its size and times, and the
// inode a rename brings.
type stamp struct {
	size         int64
	mtime, ctime int64
	ino          uint64
}

// trusted reports whether files stamped data and sig still hold the bytes
// l read: neither changed since, and neither was modified within a second
// of the read.
func (l loaded) trusted(data, sig stamp) bool {
	racy := l.readAt.Add(-time.Second).UnixNano()
	return l.data == data && l.sig == sig && data.mtime < racy && sig.mtime < racy
}

// NewLoader returns a Loader that verifies with v.
func NewLoader(v Verifier) *Loader {
	return &Loader{v: v, known: map[string]loaded{}}
}

// Load is Load with the Loader's memory.
func (l *Loader) Load(ctx context.Context, dir string) (*Catalog, error) {
	l.scan = time.Now()
	reads := l.reads.Load()
	paths, errs := list(dir, l.OnlyManifests, l.Ignore)
	cat := &Catalog{Dir: dir}
	type result struct {
		loaded
		err error
	}
	results := make([]result, len(paths))
	if err := parallel.Each(ctx, len(paths), func(i int) {
		f, err := l.loadFile(dir, paths[i])
		results[i] = result{f, err}
	}); err != nil {
		return nil, err
	}
	known := make(map[string]loaded, len(results))
	for _, r := range results {
		switch {
		case r.err != nil:
			errs = append(errs, r.err)
			continue
		case r.file.Build != nil:
			cat.Builds = append(cat.Builds, &Build{Build: r.file.Build, Signed: r.Signed})
		default:
			cat.Revocations = append(cat.Revocations, &Revocation{Revocation: r.file.Revocation, Signed: r.Signed})
		}
		known[r.Path] = r.loaded
	}
	l.mu.Lock()
	l.known = known // forget files that are gone or went bad
	l.mu.Unlock()
	slog.Debug("loaded manifests", "dir", dir, "files", len(paths), "read", l.reads.Load()-reads, "took", time.Since(l.scan))
	return cat, errors.Join(errs...)
}

// list finds the manifest files below dir, as slash paths relative to it.
// The layout is <stream>/<release>.json with <release>.json.sig beside it;
// a directory inside a stream's holds its artifacts and is not read. Dot
// files (editors' and our own temporary files) and names matching ignore
// are left alone; anything else out of place is an error, unless lenient
// (a directory of release files, which holds other files too).
func list(dir string, lenient bool, ignore []string) (paths []string, errs []error) {
	sigs := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") || ignored(ignore, name, rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		depth := strings.Count(rel, "/")
		switch {
		case d.IsDir() && depth == 0:
			return nil // a stream
		case d.IsDir():
			return filepath.SkipDir // a stream's artifacts
		case strings.HasSuffix(name, ".json"+trust.SigSuffix) && depth == 1:
			sigs[strings.TrimSuffix(rel, trust.SigSuffix)] = true
		case strings.HasSuffix(name, ".json") && depth == 1:
			paths = append(paths, rel)
		case lenient:
		case strings.HasSuffix(name, ".json"):
			errs = append(errs, fmt.Errorf("%s: not inside a stream directory: manifests go in <stream>/<release>.json", p))
		case depth == 0:
			errs = append(errs, fmt.Errorf("%s: not a stream directory: the manifests directory holds only <stream>/ directories (to keep a file here, pass --ignore %s)", p, name))
		default:
			errs = append(errs, fmt.Errorf("%s: not a manifest or a signature: a stream directory holds <release>.json and <release>.json.sig (to keep a file here, pass --ignore %s)", p, name))
		}
		return nil
	})
	if err != nil {
		return nil, []error{fmt.Errorf("read manifests: %w", err)}
	}
	for _, p := range paths {
		delete(sigs, p)
	}
	for _, s := range slices.Sorted(maps.Keys(sigs)) {
		if lenient {
			break // artifacts have .sig files of their own
		}
		slog.Warn("signature without a manifest beside it", "file", filepath.Join(dir, filepath.FromSlash(s+trust.SigSuffix)))
	}
	return paths, errs
}

// ignored reports whether a name, or the slash path rel, matches one of
// the patterns.
func ignored(patterns []string, name, rel string) bool {
	for _, pat := range patterns {
		if ok, _ := path.Match(pat, name); ok {
			return true
		}
		if ok, _ := path.Match(pat, rel); ok {
			return true
		}
	}
	return false
}

func (l *Loader) loadFile(dir, rel string) (loaded, error) {
	p := filepath.Join(dir, filepath.FromSlash(rel))
	max := l.MaxSize
	if max == 0 {
		max = manifest.DefaultMaxSize
	}
	// Stamped before reading: a write after the stat changes the stamp.
	dataStamp, dataErr := stampOf(p)
	sigStamp, sigErr := stampOf(p + trust.SigSuffix)
	l.mu.Lock()
	prev, ok := l.known[rel]
	l.mu.Unlock()
	if ok && dataErr == nil && sigErr == nil && prev.trusted(dataStamp, sigStamp) {
		return prev, nil
	}
	l.reads.Add(1)
	data, err := readCapped(p, max)
	if err != nil {
		return loaded{}, err
	}
	sig, err := readCapped(p+trust.SigSuffix, max)
	if errors.Is(err, fs.ErrNotExist) {
		return loaded{}, fmt.Errorf("%s: %w %s%s", p, trust.ErrUnsigned, path.Base(rel), trust.SigSuffix)
	}
	if err != nil {
		return loaded{}, err
	}
	sum := sha256.Sum256(data)
	if ok && prev.SHA256 == hex.EncodeToString(sum[:]) && bytes.Equal(prev.Sig, sig) {
		prev.data, prev.sig, prev.readAt = dataStamp, sigStamp, l.scan
		return prev, nil
	}
	f, signed, err := Check(l.v, p, rel, data, sig)
	if err != nil {
		return loaded{}, err
	}
	return loaded{file: f, Signed: signed, data: dataStamp, sig: sigStamp, readAt: l.scan}, nil
}

// stampOf stats p.
func stampOf(p string) (stamp, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return stamp{}, err
	}
	s := stamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	sysStamp(fi, &s)
	return s, nil
}

// readCapped reads a file that must not be larger than max bytes: a
// larger one is refused before it is read, and no more than max+1 bytes
// are read even if it grows meanwhile.
func readCapped(p string, max int64) ([]byte, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if err := manifest.CheckSize(p, fi.Size(), max); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(fh, max+1))
	if err != nil {
		return nil, err
	}
	return data, manifest.CheckSize(p, int64(len(data)), max)
}

// Check verifies one file's bytes against its signature, then parses them
// and checks that the file sits in its stream's directory. name is what
// errors call the file (a path, or a key in a store); rel is its path
// relative to the manifests directory, <stream>/<file>. Files read from
// anywhere (a directory, a mirror) get the same checks.
func Check(v Verifier, name, rel string, data, sig []byte) (*manifest.File, Signed, error) {
	sum := sha256.Sum256(data)
	signed := Signed{Path: rel, Name: name, SHA256: hex.EncodeToString(sum[:]), Data: data, Sig: sig}
	var err error
	if signed.Key, err = v.Verify(data, sig); err != nil {
		return nil, Signed{}, fmt.Errorf("%s: %w", name, err)
	}
	f, err := manifest.Parse(name, data)
	if err != nil {
		return nil, Signed{}, err
	}
	stream := path.Dir(rel)
	var claimed string
	if f.Build != nil {
		claimed = f.Build.Stream
	} else {
		claimed = f.Revocation.Stream
	}
	if claimed != stream {
		return nil, Signed{}, &manifest.FieldError{File: name, Field: "stream",
			Msg: fmt.Sprintf("%q does not match its directory %q", claimed, stream)}
	}
	return f, signed, nil
}
