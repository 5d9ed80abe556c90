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

	"github.com/projectatomic/atomic-site/internal/catalog"
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
	src := newReleaseSource()
	src.Dir, src.URL = r.String(), r.String()
	sizes := map[string]int64{}
	var manifests []string
	err := st.List(ctx, nil, func(o store.Object) error {
		if strings.HasPrefix(o.Key, store.StateDir) {
			return nil
		}
		sizes[o.Key] = o.Size
		if stream, file, ok := strings.Cut(o.Key, "/"); ok && stream != "" && !strings.Contains(file, "/") && strings.HasSuffix(file, ".json") {
			manifests = append(manifests, o.Key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", r, err)
	}
	slices.Sort(manifests)
	src.Recognized = len(manifests) > 0
	seen := map[string]bool{}
	for _, key := range manifests {
		files, err := r.release(ctx, key, sizes, keys)
		if err != nil {
			src.Refused = append(src.Refused, err)
			src.Protected[key], src.Protected[key+trust.SigSuffix] = true, true
			continue
		}
		for _, f := range files {
			if !seen[f.Rel] {
				seen[f.Rel] = true
				src.Files = append(src.Files, f)
			}
		}
	}
	return src, nil
}

// release reads and verifies one manifest and returns it, its signature
// and the files it names.
func (r *remoteRepo) release(ctx context.Context, key string, sizes map[string]int64, keys catalog.Verifier) ([]File, error) {
	data, err := r.get(ctx, key, maxManifest)
	if err != nil {
		return nil, err
	}
	sig, err := r.get(ctx, key+trust.SigSuffix, 1<<16)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s%s: not signed (no %s)", r, key, key+trust.SigSuffix)
	}
	if err != nil {
		return nil, err
	}
	f, _, err := catalog.Check(keys, r.url(key), key, data, sig)
	if err != nil {
		return nil, err
	}
	files := []File{memFile(key, data, releaseManifests, true), memFile(key+trust.SigSuffix, sig, releaseSignatures, true)}
	b := f.Build
	if b == nil || b.Failed() {
		return files, nil
	}
	var problems []string
	for art := range b.Files() {
		for _, loc := range []string{art.Location, art.Signature} {
			if loc == "" || strings.Contains(loc, "://") {
				continue // elsewhere: not part of this tree
			}
			k := path.Join(b.Stream, loc)
			size, ok := sizes[k]
			switch {
			case !ok:
				problems = append(problems, k+": missing upstream")
				continue
			case loc == art.Location && art.Size != nil && *art.Size != size:
				problems = append(problems, fmt.Sprintf("%s: %d bytes upstream, the manifest says %d", k, size, *art.Size))
				continue
			}
			want := ""
			if loc == art.Location {
				want = art.SHA256
			}
			files = append(files, File{Rel: k, Size: size, Phase: releaseArtifacts, SHA256: want,
				Fetch: func(ctx context.Context) (Fetched, error) {
					return r.fetch(ctx, k, func(rd io.Reader) error { return checkArtifact(rd, size, want) })
				}})
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("release %s/%s refused: %s", b.Stream, b.Release, strings.Join(problems, "; "))
	}
	return files, nil
}

// checkArtifact reads an artifact as it streams: it must be of size
// bytes and, when want is set, of sha256 want. A detached signature of an
// image has no checksum of its own in the manifest: its size is checked,
// and whoever verifies the image checks it.
func checkArtifact(r io.Reader, size int64, want string) error {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("%d bytes, %d listed", n, size)
	}
	if want != "" {
		return sameSHA256(hex.EncodeToString(h.Sum(nil)), want)
	}
	return nil
}
