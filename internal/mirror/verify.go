package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/ostree"
	"github.com/projectatomic/atomic-site/internal/parallel"
	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// maxManifest bounds how much of a destination's manifest is read.
const maxManifest = 16 << 20

// Reader is what Verify needs of a destination.
type Reader interface {
	List(ctx context.Context, needSum func(keyOrPrefix string) bool, fn func(store.Object) error) error
	Opener
}

// VerifyOptions say how far Verify looks.
type VerifyOptions struct {
	// Against, when set, is the source the destination must hold: every
	// file present with the right size (and content, for mutable files).
	Against *Source
	// Keys, when set, checks release manifests' signatures.
	Keys catalog.Verifier
	// Gate, when set, checks every ref against the signed manifests.
	Gate *Gate
	// Deep downloads metadata objects and images and checks their sha256.
	Deep bool
	// Leftovers, when set, lists what killed runs left behind.
	Leftovers Leftovers
	Jobs      int
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	Objects  int      // listed at the destination
	Problems []string // one line each, sorted
	// Trace is the destination's trace (nil if it has none), and Behind,
	// with Against, how it differs from the source now.
	Trace  *Trace
	Behind []string
}

// Verify checks a destination and reports every problem it finds. The
// error is for a check that could not run (the listing failed); problems
// are in the report.
//
// An ostree repository: every ref, and every ref the summary names, agree
// and are whole (their commit, and every dirtree, dirmeta and file object
// it needs, are present); deep, every commit, dirtree and dirmeta has the
// sha256 its name says. Release
// files: every manifest parses (and, with Keys, verifies), and every
// artifact it names is present with its size; deep, with its sha256.
func Verify(ctx context.Context, dst Reader, opts VerifyOptions) (*VerifyReport, error) {
	listing := map[string]store.Object{}
	err := dst.List(ctx, nil, func(o store.Object) error {
		if !strings.HasPrefix(o.Key, store.StateDir) { // the mirror's own state, not content
			listing[o.Key] = o
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	v := &verifier{dst: dst, listing: listing, jobs: max(opts.Jobs, 1)}
	for key, o := range listing {
		if o.Symlink {
			v.problem("%s: a symbolic link: the mirror never writes one, and clients may follow it out of the mirror", key)
		}
	}
	if opts.Leftovers != nil {
		candidates := make([]store.Object, 0, len(listing))
		for _, o := range listing {
			candidates = append(candidates, o)
		}
		if opts.Against != nil {
			candidates = append(candidates, Candidates(opts.Against.Files)...)
		}
		found, err := opts.Leftovers.Leftovers(ctx, candidates)
		if err != nil {
			v.problem("cannot list leftovers: %v", err)
		}
		for _, l := range found {
			v.problem("%s: %s of %d bytes, started %s, left by a run that did not finish; the next sync removes it",
				l.Key, l.Kind, l.Size, l.Started.UTC().Format(time.RFC3339))
		}
	}
	if _, isRepo := listing["config"]; isRepo {
		v.refs(ctx, opts.Gate)
		if opts.Deep {
			v.objects(ctx)
		}
	} else {
		v.releases(ctx, opts.Keys, opts.Deep)
	}
	rep := &VerifyReport{Objects: len(listing)}
	if rep.Trace, err = ReadTrace(ctx, dst); err != nil {
		v.problem("%v", err)
	}
	if opts.Against != nil {
		v.against(opts.Against)
		now, err := opts.Against.State()
		if err != nil {
			return nil, err
		}
		if rep.Trace != nil {
			rep.Behind = rep.Trace.Behind(now)
		}
	}
	slices.Sort(v.problems)
	rep.Problems = v.problems
	return rep, nil
}

type verifier struct {
	dst      Reader
	listing  map[string]store.Object
	jobs     int
	mu       sync.Mutex
	problems []string
}

func (v *verifier) problem(format string, args ...any) {
	v.mu.Lock()
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
	v.mu.Unlock()
}

func (v *verifier) read(ctx context.Context, key string, limit int64) ([]byte, error) {
	r, err := v.dst.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, limit))
}

// size and sha256 make the destination a holder for checkArtifacts.
func (v *verifier) size(key string) (int64, bool) {
	o, ok := v.listing[key]
	return o.Size, ok
}

func (v *verifier) sha256(ctx context.Context, key string) (string, error) {
	r, err := v.dst.Open(ctx, key)
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// refs walks every ref, and every ref the summary names, to every object
// its commit needs; and, with a gate, checks that each names a commit a
// released, unrevoked build names.
func (v *verifier) refs(ctx context.Context, gate *Gate) {
	refs := map[string]string{}
	for key := range v.listing {
		if !strings.HasPrefix(key, "refs/") || v.listing[key].Symlink {
			continue
		}
		data, err := v.read(ctx, key, 4096)
		if err != nil {
			v.problem("%s: cannot read: %v", key, err)
			continue
		}
		sum := strings.TrimSpace(string(data))
		if !manifest.IsSHA256(sum) {
			v.problem("%s: not a ref: its %d bytes are not a commit checksum", key, len(data))
			continue
		}
		refs[RefName(key)] = sum
		if gate != nil {
			if err := gate.Check(RefName(key), sum); err != nil {
				v.problem("%s: %v", key, err)
			}
		}
	}
	if _, ok := v.listing["summary"]; ok {
		data, err := v.read(ctx, "summary", maxSummary)
		var named map[string]string
		if err == nil {
			named, err = ostree.ParseSummary(data)
		}
		if err != nil {
			v.problem("summary: %v", err)
		}
		for name, sum := range named {
			switch cur, ok := refs[name]; {
			case !ok:
				v.problem("summary: names ref %s (commit %s), which has no file under refs/", name, sum)
				refs[name] = sum
			case cur != sum:
				v.problem("summary: names commit %s for ref %s, whose file names %s", sum, name, cur)
				refs[name+" (as the summary names it)"] = sum
			}
		}
	}
	gaps, err := ostree.Walk(ctx, refs, v, v.jobs)
	if err != nil {
		v.problem("walk: %v", err)
	}
	for ref, gs := range groupGaps(gaps) {
		for i, g := range gs {
			if i == maxGapsPerRef {
				v.problem("ref %s: %d more objects missing or unreadable", ref, len(gs)-i)
				break
			}
			v.problem("%s", g)
		}
	}
}

// maxSummary bounds how much of a summary file is read.
const maxSummary = 64 << 20

// maxGapsPerRef bounds the lines of one ref's gaps: a destination that
// lost everything needs no list of twenty thousand objects.
const maxGapsPerRef = 20

func groupGaps(gaps []ostree.Gap) map[string][]ostree.Gap {
	m := map[string][]ostree.Gap{}
	for _, g := range gaps {
		m[g.Ref] = append(m[g.Ref], g)
	}
	return m
}

// Has and Read make the destination an ostree.Objects for a walk.
func (v *verifier) Has(key string) bool {
	o, ok := v.listing[key]
	return ok && !o.Symlink
}

func (v *verifier) Read(ctx context.Context, key string) ([]byte, error) {
	return v.read(ctx, key, maxSummary)
}

// objects downloads every object and checks that its content has the
// checksum its name says, as ostree computes it (for a .filez, over its
// header and uncompressed content).
func (v *verifier) objects(ctx context.Context) {
	var keys []string
	for key := range v.listing {
		if _, typ, ok := ostree.ObjectChecksum(key); ok && typ != "commitmeta" {
			keys = append(keys, key)
		}
	}
	parallel.Do(ctx, v.jobs, len(keys), func(i int) error {
		key := keys[i]
		r, err := v.dst.Open(ctx, key)
		if err != nil {
			v.problem("%s: cannot read: %v", key, err)
			return nil
		}
		defer r.Close()
		if err := ostree.Verify(key, r); err != nil {
			v.problem("%v", err)
		}
		return nil
	})
}

// releases checks every manifest and the artifacts it names, with the
// checks a sync makes of its source.
func (v *verifier) releases(ctx context.Context, keys catalog.Verifier, deep bool) {
	var manifests []string
	for key := range v.listing {
		if strings.Count(key, "/") == 1 && strings.HasSuffix(key, ".json") {
			manifests = append(manifests, key)
		}
	}
	parallel.Do(ctx, v.jobs, len(manifests), func(i int) error {
		key := manifests[i]
		data, err := v.read(ctx, key, maxManifest)
		if err != nil {
			v.problem("%s: cannot read: %v", key, err)
			return nil
		}
		var f *manifest.File
		if keys != nil {
			sig, err := v.read(ctx, key+trust.SigSuffix, 1<<16)
			if err != nil {
				v.problem("%s: no signature: %v", key, err)
				return nil
			}
			f, _, err = catalog.Check(keys, key, key, data, sig)
			if err != nil {
				v.problem("%v", err)
				return nil
			}
		} else if f, err = manifest.Parse(key, data); err != nil {
			v.problem("%v", err)
			return nil
		}
		if b := f.Build; b != nil && !b.Failed() {
			if _, err := checkArtifacts(ctx, b, v, deep); err != nil {
				for _, line := range strings.Split(err.Error(), "\n") {
					v.problem("%s (named by %s)", line, key)
				}
			}
		}
		return nil
	})
}

// against checks that every source file is present with the right size.
func (v *verifier) against(src *Source) {
	for _, f := range src.Files {
		o, ok := v.listing[f.Rel]
		switch {
		case !ok:
			v.problem("%s: in the source, missing", f.Rel)
		case o.Size != f.Size:
			v.problem("%s: %d bytes, the source has %d", f.Rel, o.Size, f.Size)
		case f.Mutable && o.SHA256 != "" && o.SHA256 != f.SHA256:
			v.problem("%s: differs from the source (sha256 %s, source %s)", f.Rel, o.SHA256, f.SHA256)
		case f.Mutable && o.SHA256 == "" && isMD5(o.ETag) && strings.Trim(o.ETag, `"`) != f.MD5:
			v.problem("%s: differs from the source (MD5 %s, source %s)", f.Rel, strings.Trim(o.ETag, `"`), f.MD5)
		}
	}
}

// holder is what checkArtifacts learns of the place a release is in: a
// source directory about to be published, or a destination.
type holder interface {
	size(key string) (int64, bool)
	sha256(ctx context.Context, key string) (string, error)
}

// checkArtifacts checks every artifact of b with a relative location: it is
// present, of the size the manifest says and, with sums, of its sha256. It
// returns the keys of the artifacts and their signatures, with every
// problem joined in the error.
func checkArtifacts(ctx context.Context, b *manifest.Build, h holder, sums bool) ([]string, error) {
	var names []string
	var errs []string
	for art := range b.Files() {
		for _, loc := range []string{art.Location, art.Signature} {
			if loc != "" && !strings.Contains(loc, "://") {
				names = append(names, path.Join(b.Stream, loc))
			}
		}
		if strings.Contains(art.Location, "://") {
			continue
		}
		key := path.Join(b.Stream, art.Location)
		size, ok := h.size(key)
		switch {
		case !ok:
			errs = append(errs, key+": missing")
		case art.Size != nil && *art.Size != size:
			errs = append(errs, fmt.Sprintf("%s: %d bytes, the manifest says %d", key, size, *art.Size))
		case sums:
			sum, err := h.sha256(ctx, key)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: cannot read: %v", key, err))
			} else if sum != art.SHA256 {
				errs = append(errs, fmt.Sprintf("%s: sha256 %s, the manifest says %s", key, sum, art.SHA256))
			}
		}
	}
	if len(errs) == 0 {
		return names, nil
	}
	return names, fmt.Errorf("%s", strings.Join(errs, "\n"))
}
