package mirror

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/ostree"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// Open inspects dir and returns what to publish: an ostree repository in
// archive mode, or else a directory of release files. With keys, release
// files are checked against their signed manifests first.
func Open(ctx context.Context, dir string, keys *trust.Keyring) (*Source, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	isRepo, err := ostree.IsRepo(dir)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	defer func() { slog.Debug("read source", "dir", dir, "took", time.Since(start)) }()
	var src *Source
	if isRepo {
		src, err = OSTreeSource(dir)
	} else {
		src, err = ReleaseSource(ctx, dir, keys)
	}
	if src != nil {
		src.Dir = dir
	}
	return src, err
}

// newOSTreeSource is an ostree repository's source, with no files yet:
// its phases, what it never publishes, and how it deletes.
func newOSTreeSource() *Source {
	src := &Source{Kind: "ostree", Protected: map[string]bool{}, Recognized: true,
		FirstPointer: int(ostree.FirstPointer), FirstSigned: int(ostree.FirstSigned), Commits: true}
	for p := ostree.Phase(0); p < ostree.NumPhases; p++ {
		src.Phases = append(src.Phases, p.String())
	}
	src.Skip = func(rel string) bool { return ostree.Classify(rel).Skip }
	// Below objects/ only .commitmeta is mutable, and its single-part
	// ETag (MD5) tells whether it changed.
	src.NeedSum = func(p string) bool { return !strings.HasPrefix(p, "objects/") && !strings.HasPrefix(p, "deltas/") }
	src.DeleteRank = func(rel string) int {
		c := ostree.Classify(rel)
		if c.Skip {
			return int(ostree.NumPhases) // junk first: nothing points at it
		}
		return int(c.Phase)
	}
	return src
}

// OSTreeSource lists an archive-mode repository in publishing phases.
func OSTreeSource(dir string) (*Source, error) {
	src := newOSTreeSource()
	err := walk(dir, func(rel, p string, size int64) error {
		c := ostree.Classify(rel)
		if c.Skip {
			return nil
		}
		f := File{Rel: rel, Path: p, Size: size, Phase: int(c.Phase), Mutable: c.Mutable}
		if c.Mutable {
			if err := sums(&f); err != nil {
				return err
			}
		}
		src.Files = append(src.Files, f)
		return nil
	})
	return src, err
}

// The phases of release files.
const (
	releaseArtifacts = iota
	releaseManifests
	releaseSignatures
)

// newReleaseSource is a release tree's source, with no files yet: its
// phases, and how it deletes.
func newReleaseSource() *Source {
	return &Source{
		Kind:         "release files",
		Phases:       []string{"artifacts", "manifests", "signatures"},
		FirstPointer: releaseManifests,
		Protected:    map[string]bool{},
		NeedSum: func(p string) bool {
			return strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".json"+trust.SigSuffix)
		},
		DeleteRank: func(rel string) int {
			switch {
			case strings.HasSuffix(rel, ".json"+trust.SigSuffix):
				return 2
			case strings.HasSuffix(rel, ".json"):
				return 1
			}
			return 0
		},
	}
}

// ReleaseSource lists a directory of release files: artifacts first, then
// the manifests that name them, then the manifests' signatures. With keys,
// every manifest is verified, and every artifact it names by a relative
// location is checked for size and sha256; a release that fails is held
// back whole and reported.
func ReleaseSource(ctx context.Context, dir string, keys *trust.Keyring) (*Source, error) {
	src := newReleaseSource()
	files := map[string]*File{}
	var order []string
	err := walk(dir, func(rel, p string, size int64) error {
		f := &File{Rel: rel, Path: p, Size: size, Phase: releaseArtifacts}
		switch {
		case strings.HasSuffix(rel, ".json"+trust.SigSuffix):
			f.Phase, f.Mutable = releaseSignatures, true
		case strings.HasSuffix(rel, ".json"):
			f.Phase, f.Mutable = releaseManifests, true
			src.Recognized = src.Recognized || strings.Count(rel, "/") == 1
		}
		if f.Mutable {
			if err := sums(f); err != nil {
				return err
			}
		}
		files[rel] = f
		order = append(order, rel)
		return nil
	})
	if err != nil {
		return nil, err
	}
	held := map[string]bool{}
	if keys != nil {
		held, src.Refused, err = checkReleases(ctx, dir, keys, files)
		if err != nil {
			return nil, err
		}
	}
	for _, rel := range order {
		if held[rel] {
			src.Protected[rel] = true
			continue
		}
		src.Files = append(src.Files, *files[rel])
	}
	return src, nil
}

// checkReleases verifies the manifests and the artifacts they name, and
// returns the files to hold back and why.
func checkReleases(ctx context.Context, dir string, keys *trust.Keyring, files map[string]*File) (map[string]bool, []error, error) {
	held := map[string]bool{}
	var refused []error
	l := catalog.NewLoader(keys)
	l.OnlyManifests = true
	cat, err := l.Load(ctx, dir)
	if err != nil {
		// A manifest that does not verify is itself refused: hold back
		// every manifest file the catalog could not vouch for.
		refused = append(refused, err)
	}
	good := map[string]bool{}
	if cat != nil {
		for _, b := range cat.Builds {
			good[b.Path] = true
		}
		for _, r := range cat.Revocations {
			good[r.Path] = true
		}
	}
	for rel, f := range files {
		if f.Phase != releaseArtifacts && !good[strings.TrimSuffix(rel, trust.SigSuffix)] {
			held[rel] = true
		}
	}
	if cat == nil {
		return held, refused, nil
	}
	for _, b := range cat.Builds {
		names, err := checkArtifacts(ctx, b.Build, localFiles(files), true)
		if err != nil {
			refused = append(refused, fmt.Errorf("release %s/%s refused: %w", b.Stream, b.Release, err))
			held[b.Path], held[b.Path+trust.SigSuffix] = true, true
			for _, n := range names {
				held[n] = true
			}
		}
	}
	return held, refused, nil
}

// localFiles are a source's files, as a holder for checkArtifacts.
type localFiles map[string]*File

func (l localFiles) size(key string) (int64, bool) {
	f, ok := l[key]
	if !ok {
		return 0, false
	}
	return f.Size, true
}

func (l localFiles) sha256(_ context.Context, key string) (string, error) {
	f := l[key]
	if f.SHA256 == "" {
		if err := sums(f); err != nil {
			return "", err
		}
	}
	return f.SHA256, nil
}

// walk calls fn for every regular file below dir, with its slash path
// relative to dir and the path to read it from. A symbolic link whose
// target stays inside dir is followed, to a file or a directory; any other
// fails the walk, naming the link and its target, so that nothing outside
// the source is ever published.
func walk(dir string, fn func(rel, path string, size int64) error) error {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return err
	}
	w := &sourceWalk{dir: dir, root: root, fn: fn}
	return w.walkDir(root, "", map[string]bool{root: true})
}

type sourceWalk struct {
	dir, root string
	fn        func(rel, path string, size int64) error
}

// walkDir walks real directory real, whose files are published below rel.
// active holds the real directories being walked, to refuse a loop.
func (w *sourceWalk) walkDir(real, rel string, active map[string]bool) error {
	entries, err := os.ReadDir(real)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(real, e.Name())
		r := path.Join(rel, e.Name())
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			if err := w.link(p, r, active); err != nil {
				return err
			}
		case e.IsDir():
			active[p] = true
			err := w.walkDir(p, r, active)
			delete(active, p)
			if err != nil {
				return err
			}
		case e.Type().IsRegular():
			fi, err := e.Info()
			if err != nil {
				return err
			}
			if err := w.fn(r, p, fi.Size()); err != nil {
				return err
			}
		}
	}
	return nil
}

// ErrOutside is wrapped by the error of a source holding a symbolic link
// that leads out of it.
var ErrOutside = errors.New("leads outside the source")

func (w *sourceWalk) link(p, rel string, active map[string]bool) error {
	target, _ := os.Readlink(p)
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return fmt.Errorf("%s: symbolic link %s -> %s: %w", w.dir, rel, target, err)
	}
	if real != w.root && !strings.HasPrefix(real, w.root+string(filepath.Separator)) {
		return fmt.Errorf("%s: symbolic link %s -> %s %w (%s); nothing was published", w.dir, rel, target, ErrOutside, real)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return err
	}
	switch {
	case fi.IsDir():
		if active[real] {
			return fmt.Errorf("%s: symbolic link %s -> %s makes a loop", w.dir, rel, target)
		}
		active[real] = true
		defer delete(active, real)
		return w.walkDir(real, rel, active)
	case fi.Mode().IsRegular():
		return w.fn(rel, real, fi.Size())
	}
	return nil
}

// sums sets a file's sha256 and md5.
func sums(f *File) error {
	fh, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	defer fh.Close()
	s, m := sha256.New(), md5.New()
	if _, err := io.Copy(io.MultiWriter(s, m), fh); err != nil {
		return fmt.Errorf("read %s: %w", f.Path, err)
	}
	f.SHA256, f.MD5 = hex.EncodeToString(s.Sum(nil)), hex.EncodeToString(m.Sum(nil))
	return nil
}

// dataSums are the sha256 and md5 of content in memory.
func dataSums(data []byte) (sha, md string) {
	s, m := sha256.Sum256(data), md5.Sum(data)
	return hex.EncodeToString(s[:]), hex.EncodeToString(m[:])
}
