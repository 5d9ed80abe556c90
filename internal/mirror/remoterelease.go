package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/parallel"
	"github.com/projectatomic/atomic-site/internal/siteindex"
	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// OpenReleaseStore reads a release tree that another mirror fills (the
// primary's bucket): its signed manifests, each verified with keys, and the
// files they name by a relative location. Each artifact is fetched as it
// is uploaded and checked, as it streams, against the size and sha256 its
// manifest signs; it goes up before the manifest that names it, in the
// layout the upstream has. A release whose manifest does not verify, or
// whose files are missing or of the wrong size upstream, is held back whole
// and reported, as from a directory.
func OpenReleaseStore(ctx context.Context, st Reader, name string, keys catalog.Verifier, opts RemoteOptions) (*Source, error) {
	if !strings.HasSuffix(name, "/") {
		name += "/"
	}
	r := &remoteRepo{t: storeTransport{st, name}, retry: opts.Retry, spool: opts.Spool}
	sizes := map[string]int64{}
	var manifests []string
	err := st.List(ctx, nil, func(o store.Object) error {
		if strings.HasPrefix(o.Key, store.StateDir) {
			return nil
		}
		sizes[o.Key] = o.Size
		if isManifestKey(o.Key) {
			manifests = append(manifests, o.Key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", r, err)
	}
	listed := func(context.Context, []string) (map[string]int64, error) { return sizes, nil }
	src, err := openRelease(ctx, r, r, manifests, keys, listed)
	if err != nil {
		return nil, err
	}
	for i := range src.Files {
		if src.Files[i].Fetch != nil {
			src.Files[i].CopyFrom = st // a destination on st's server copies it there, checked
		}
	}
	return src, nil
}

// OpenReleaseHTTP reads a release tree served over HTTP(S) at treeURL, as
// OpenReleaseStore reads one from a bucket. A web server lists nothing, so
// the manifests are those that the site at siteURL lists in its index.json
// (sitegen build lists every manifest it published, under manifests/),
// read from the site and each verified with keys. An index past its expiry
// (a frozen copy of the site) is refused: the run would miss every release
// since. The files the manifests name are asked for their size (HEAD) in
// the tree first, so that a release whose files the tree lacks is held
// back whole, as from a bucket.
func OpenReleaseHTTP(ctx context.Context, treeURL, siteURL string, keys catalog.Verifier, opts RemoteOptions) (*Source, error) {
	tree, err := newHTTPTransport(treeURL, opts.Client)
	if err != nil {
		return nil, err
	}
	site, err := newHTTPTransport(strings.TrimSuffix(siteURL, siteindex.Path), opts.Client)
	if err != nil {
		return nil, err
	}
	tr := &remoteRepo{t: tree, retry: opts.Retry, spool: opts.Spool}
	if _, err := tr.get(ctx, "config", maxSmall); err == nil {
		return nil, fmt.Errorf("%s: an ostree repository, not a release tree: mirror it without --manifests URL (to gate its refs, give --manifests a directory)", tr)
	}
	sr := &remoteRepo{t: site, retry: opts.Retry}
	data, err := sr.get(ctx, siteindex.Path, maxManifest)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s%s: not found: --manifests names the site whose index lists the signed manifests (its root, where index.json is)", sr, siteindex.Path)
	}
	if err != nil {
		return nil, err
	}
	idx, err := siteindex.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s%s: %w", sr, siteindex.Path, err)
	}
	if err := idx.Fresh(time.Now()); err != nil {
		return nil, fmt.Errorf("%s: %w; nothing published", sr, err)
	}
	var manifests []string
	for _, p := range idx.Paths() {
		if key, ok := strings.CutPrefix(p, "manifests/"); ok && isManifestKey(key) {
			manifests = append(manifests, key)
		}
	}
	mt := *site
	mu := *site.base
	mu.Path += "manifests/"
	mt.base = &mu
	heads := func(ctx context.Context, keys []string) (map[string]int64, error) {
		sizes := make([]int64, len(keys))
		err := parallel.Do(ctx, max(opts.Jobs, 1), len(keys), func(i int) error {
			err := tr.retry.Do(ctx, "head", tr.url(keys[i]), func() (err error) {
				sizes[i], err = tree.size(ctx, keys[i])
				return err
			})
			if errors.Is(err, fs.ErrNotExist) {
				sizes[i] = -2 // missing: left out below
				return nil
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		m := make(map[string]int64, len(keys))
		for i, k := range keys {
			if sizes[i] != -2 {
				m[k] = sizes[i]
			}
		}
		return m, nil
	}
	return openRelease(ctx, tr, &remoteRepo{t: &mt, retry: opts.Retry}, manifests, keys, heads)
}

// isManifestKey reports whether key is where a release tree keeps a
// manifest: <stream>/<release>.json (a mirror's own .mirror/ is not a
// stream).
func isManifestKey(key string) bool {
	stream, file, ok := strings.Cut(key, "/")
	return ok && stream != "" && !strings.HasPrefix(stream, ".") && !strings.Contains(file, "/") && strings.HasSuffix(file, ".json")
}

// openRelease reads the manifests (from mr, by key) of the release tree
// tree, verifies each with keys and lists the files they name, with their
// sizes in the tree as sizes finds them; see OpenReleaseStore.
func openRelease(ctx context.Context, tree, mr *remoteRepo, manifests []string, keys catalog.Verifier,
	sizes func(ctx context.Context, keys []string) (map[string]int64, error)) (*Source, error) {
	src := newReleaseSource()
	src.Dir, src.URL = tree.String(), tree.String()
	slices.Sort(manifests)
	src.Recognized = len(manifests) > 0
	refuse := func(key string, err error) {
		src.Refused = append(src.Refused, err)
		src.Protected[key], src.Protected[key+trust.SigSuffix] = true, true
	}
	type release struct {
		key   string
		files []File // the manifest and its signature
		build *manifest.Build
	}
	var releases []release
	var need []string
	for _, key := range manifests {
		files, b, err := mr.readManifest(ctx, key, keys)
		if err != nil {
			refuse(key, err)
			continue
		}
		releases = append(releases, release{key, files, b})
		for _, tf := range treeFiles(b) {
			need = append(need, tf.key)
		}
	}
	have, err := sizes(ctx, need)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, rel := range releases {
		files, err := tree.releaseFiles(rel.build, have)
		if err != nil {
			refuse(rel.key, err)
			continue
		}
		for _, f := range slices.Concat(rel.files, files) {
			if !seen[f.Rel] {
				seen[f.Rel] = true
				src.Files = append(src.Files, f)
			}
		}
	}
	return src, nil
}

// readManifest reads and verifies one manifest and returns it and its
// signature as files, and the build it describes (nil for a release
// with no files of its own to mirror).
func (r *remoteRepo) readManifest(ctx context.Context, key string, keys catalog.Verifier) ([]File, *manifest.Build, error) {
	data, err := r.get(ctx, key, maxManifest)
	if err != nil {
		return nil, nil, err
	}
	sig, err := r.get(ctx, key+trust.SigSuffix, 1<<16)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s%s: not signed (no %s)", r, key, key+trust.SigSuffix)
	}
	if err != nil {
		return nil, nil, err
	}
	f, _, err := catalog.Check(keys, r.url(key), key, data, sig)
	if err != nil {
		return nil, nil, err
	}
	files := []File{memFile(key, data, releaseManifests, true), memFile(key+trust.SigSuffix, sig, releaseSignatures, true)}
	b := f.Build
	if b != nil && b.Failed() {
		b = nil
	}
	return files, b, nil
}

// treeFile is a file of a release tree that a manifest names by a
// relative location: an artifact, with its signed sha256 and size, or an
// artifact's detached signature, with neither.
type treeFile struct {
	key    string
	sha256 string
	size   *int64
}

// treeFiles lists the files of the tree that build b names.
func treeFiles(b *manifest.Build) []treeFile {
	if b == nil {
		return nil
	}
	var out []treeFile
	for art := range b.Files() {
		if loc := art.Location; loc != "" && !strings.Contains(loc, "://") {
			out = append(out, treeFile{path.Join(b.Stream, loc), art.SHA256, art.Size})
		}
		if loc := art.Signature; loc != "" && !strings.Contains(loc, "://") {
			out = append(out, treeFile{key: path.Join(b.Stream, loc)})
		}
	}
	return out
}

// releaseFiles lists the files of the tree that build b names, each to be
// fetched and checked as it is uploaded, given their sizes in the tree: a
// file missing there, or whose size is not the signed one, refuses the
// release.
func (r *remoteRepo) releaseFiles(b *manifest.Build, sizes map[string]int64) ([]File, error) {
	var files []File
	var problems []string
	for _, tf := range treeFiles(b) {
		size, ok := sizes[tf.key]
		switch {
		case !ok:
			problems = append(problems, tf.key+": missing upstream")
			continue
		case tf.size != nil && size < 0: // a server that did not say
			size = *tf.size
		case tf.size != nil && *tf.size != size:
			problems = append(problems, fmt.Sprintf("%s: %d bytes upstream, the manifest says %d", tf.key, size, *tf.size))
			continue
		}
		files = append(files, File{Rel: tf.key, Size: size, Phase: releaseArtifacts, SHA256: tf.sha256,
			Fetch: func(ctx context.Context) (Fetched, error) {
				return r.fetch(ctx, tf.key, func(rd io.Reader) error { return checkArtifact(rd, size, tf.sha256) })
			}})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("release %s/%s refused: %s", b.Stream, b.Release, strings.Join(problems, "; "))
	}
	return files, nil
}

// checkArtifact reads an artifact (or a static delta part) as it streams:
// it must be of size bytes, when size is known (not below 0), and of
// sha256 want, when want is set. A detached signature of an image has no
// checksum of its own in the manifest: its size is checked, and whoever
// verifies the image checks it.
func checkArtifact(r io.Reader, size int64, want string) error {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return err
	}
	if size >= 0 && n != size {
		return fmt.Errorf("%d bytes, %d listed", n, size)
	}
	if want != "" {
		return sameSHA256(hex.EncodeToString(h.Sum(nil)), want)
	}
	return nil
}
