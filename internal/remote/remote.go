// Package remote fetches the signed manifests from the bucket that mirror
// sync fills, so that the site is built from exactly what the primary
// mirror holds: the mirror publishes a release's manifest only after its
// files, so a page built from it never links a file the mirror lacks.
package remote

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/store/s3"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// retry is how a request that failed for a transient reason is tried
// again: a listing request, or the download of one file.
var retry = store.RetryPolicy{Attempts: 4, Backoff: 500 * time.Millisecond}

// IsRemote reports whether src names a bucket rather than a directory.
func IsRemote(src string) bool { return strings.HasPrefix(src, "s3://") }

// Fetch copies every manifest, revocation and signature
// (<stream>/<file>.json and .json.sig) below s3://BUCKET/PREFIX into dir,
// refusing any larger than maxSize. It returns how many files it copied.
func Fetch(ctx context.Context, src, endpoint, dir string, maxSize int64) (int, error) {
	st, err := s3.New(src, s3.Options{Endpoint: endpoint, Retry: retry})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := st.Check(ctx); err != nil {
		return 0, err
	}
	var keys []string
	err = st.List(ctx, nil, func(o store.Object) error {
		if isManifest(o.Key) {
			if o.Size > maxSize {
				return fmt.Errorf("%s/%s: %d bytes, more than --max-manifest-size allows", strings.TrimSuffix(src, "/"), o.Key, o.Size)
			}
			keys = append(keys, o.Key)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("list %s: %w", src, err)
	}
	for _, k := range keys {
		var n int64
		err := retry.Do(ctx, "get", k, func() (err error) {
			n, err = copyKey(ctx, st, k, filepath.Join(dir, filepath.FromSlash(k)), maxSize)
			return err
		})
		if err == nil && n > maxSize {
			err = fmt.Errorf("more than %d bytes", maxSize)
		}
		if err != nil {
			return 0, fmt.Errorf("%s/%s: %w", strings.TrimSuffix(src, "/"), k, err)
		}
	}
	return len(keys), nil
}

// isManifest matches <stream>/<file>.json and its signature, the layout of
// a manifests directory; artifacts and the mirror's own files are not.
func isManifest(key string) bool {
	stream, file, ok := strings.Cut(key, "/")
	if !ok || stream == "" || stream[0] == '.' || strings.Contains(file, "/") || file == "" || file[0] == '.' {
		return false
	}
	return strings.HasSuffix(file, ".json") || strings.HasSuffix(file, ".json"+trust.SigSuffix)
}

// copyKey copies at most maxSize+1 bytes of key to dst and says how many.
func copyKey(ctx context.Context, st *s3.Store, key, dst string, maxSize int64) (int64, error) {
	r, err := st.Open(ctx, key)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, err
	}
	f, err := os.Create(dst)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, io.LimitReader(r, maxSize+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}
