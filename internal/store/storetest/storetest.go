// Package storetest is the conformance suite every mirror destination
// passes, in the manner of restic's backend test suite: the local
// directory, and S3 against two real servers (MinIO and SeaweedFS). What a
// store can do beyond the basics (a lease, leftovers, public reads, a
// network to fail) is tested where it has it, and found by type.
package storetest

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/parallel"
	"github.com/projectatomic/atomic-site/internal/store"
)

// Store is a destination under test: what the mirror needs of one, and
// reading back.
type Store interface {
	List(ctx context.Context, needSum func(keyOrPrefix string) bool, fn func(store.Object) error) error
	Put(ctx context.Context, u store.Upload) error
	Delete(ctx context.Context, key string) error
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// Options say what else the store under test can show.
type Options struct {
	// PublicURL, when set, is where anyone reads key over HTTP, as a
	// client of a public mirror does: the suite checks the Content-Type
	// and Cache-Control it gets.
	PublicURL func(s Store, key string) string
	// Leftover leaves in s what a killed upload of key leaves there: an
	// incomplete multipart upload, or a temporary file.
	Leftover func(t *testing.T, s Store, key string)
	// Flaky returns s reached through a connection that fails a share of
	// requests: a listing must still give every key exactly once.
	Flaky func(t *testing.T, s Store) Store
	// MultipartSize is the size from which a file goes up in parts; the
	// suite puts one larger.
	MultipartSize int64
}

var ctx = context.Background()

// put puts content under key, from a file.
func put(t *testing.T, s Store, key, content string, headers ...string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(content))
	u := store.Upload{Key: key, Path: p, Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:])}
	if len(headers) == 2 {
		u.ContentType, u.CacheControl = headers[0], headers[1]
	}
	if err := s.Put(ctx, u); err != nil {
		t.Fatalf("Put %s: %v", key, err)
	}
}

func list(t *testing.T, s Store) map[string]store.Object {
	t.Helper()
	got := map[string]store.Object{}
	err := s.List(ctx, nil, func(o store.Object) error {
		if _, ok := got[o.Key]; ok {
			t.Errorf("%s listed twice", o.Key)
		}
		got[o.Key] = o
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func read(t *testing.T, s Store, key string) string {
	t.Helper()
	r, err := s.Open(ctx, key)
	if err != nil {
		t.Fatalf("Open %s: %v", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return string(b)
}

// Run runs the suite, each test on a fresh, empty store from newStore.
func Run(t *testing.T, newStore func(t *testing.T) Store, opts Options) {
	t.Run("empty", func(t *testing.T) {
		if got := list(t, newStore(t)); len(got) != 0 {
			t.Errorf("new store lists %v", got)
		}
	})
	t.Run("put list open delete", func(t *testing.T) { basics(t, newStore(t)) })
	t.Run("names with spaces and non-ASCII", func(t *testing.T) {
		s := newStore(t)
		keys := []string{"images/Fedora Atomic 28.qcow2", "notes/ünïcødé-日本語.txt", "a+b=c&d;e,f(g)'h'", "spaces/ end .txt"}
		for _, k := range keys {
			put(t, s, k, "content of "+k)
		}
		got := list(t, s)
		for _, k := range keys {
			if _, ok := got[k]; !ok {
				t.Errorf("%q not listed under its name: %v", k, got)
			} else if c := read(t, s, k); c != "content of "+k {
				t.Errorf("%q read back %q", k, c)
			}
			if err := s.Delete(ctx, k); err != nil {
				t.Errorf("Delete %q: %v", k, err)
			}
		}
		if got := list(t, s); len(got) != 0 {
			t.Errorf("after deleting every key: %v", got)
		}
	})
	t.Run("content read before the upload", func(t *testing.T) {
		s := newStore(t)
		data := []byte(`{"trace": true}` + "\n")
		sum := sha256.Sum256(data)
		if err := s.Put(ctx, store.Upload{Key: ".mirror/trace.json", Data: data, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}); err != nil {
			t.Fatal(err)
		}
		if c := read(t, s, ".mirror/trace.json"); c != string(data) {
			t.Errorf("read back %q", c)
		}
	})
	t.Run("deletes of missing keys", func(t *testing.T) {
		s := newStore(t)
		for _, k := range []string{"never", "no/such/dir/key"} {
			if err := s.Delete(ctx, k); err != nil {
				t.Errorf("Delete %s, never written: %v", k, err)
			}
		}
		put(t, s, "refs/heads/x", "c")
		if err := s.Delete(ctx, "refs/heads/y"); err != nil {
			t.Errorf("Delete of a missing key beside one that exists: %v", err)
		}
		if _, ok := list(t, s)["refs/heads/x"]; !ok {
			t.Error("deleting a missing key removed its neighbour")
		}
	})
	t.Run("listing many keys", func(t *testing.T) { manyKeys(t, newStore(t), nil) })
	if opts.Flaky != nil {
		t.Run("listing resumes after failed requests", func(t *testing.T) {
			s := newStore(t)
			manyKeys(t, s, opts.Flaky(t, s))
		})
	}
	if opts.MultipartSize > 0 {
		t.Run("multipart", func(t *testing.T) { multipart(t, newStore(t), opts.MultipartSize) })
	}
	if opts.PublicURL != nil {
		t.Run("content type and cache control", func(t *testing.T) { headers(t, newStore(t), opts.PublicURL) })
	}
	if opts.Leftover != nil {
		t.Run("leftovers", func(t *testing.T) { leftovers(t, newStore(t), opts.Leftover) })
	}
	t.Run("lease", func(t *testing.T) { lease(t, newStore(t)) })
}

func basics(t *testing.T, s Store) {
	keys := []string{"config", "refs/heads/fedora/28/x86_64/atomic-host", "objects/ab/cdef.filez"}
	for _, k := range keys {
		put(t, s, k, "content of "+k, "text/plain", mirror.CacheMutable)
	}
	got := list(t, s)
	for k, o := range got {
		if o.Size != int64(len("content of "+k)) {
			t.Errorf("%s: size %d", k, o.Size)
		}
		// The content of a small file must be known from the listing
		// (its sha256, or its MD5 as a single-part ETag) or cheaply from
		// the store.
		if want := md5.Sum([]byte("content of " + k)); o.SHA256 == "" && strings.Trim(o.ETag, `"`) != hex.EncodeToString(want[:]) {
			if sm, ok := s.(mirror.Summer); !ok {
				t.Errorf("%s: no sha256 or MD5 ETag in the listing, and the store cannot tell its content", k)
			} else if sum, err := sm.SHA256(ctx, k); err != nil || sum == "" {
				t.Errorf("%s: SHA256 = %q, %v", k, sum, err)
			}
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range got {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(names, slices.Sorted(slices.Values(keys))) {
		t.Fatalf("listed %v, want %v", names, keys)
	}
	if c := read(t, s, "refs/heads/fedora/28/x86_64/atomic-host"); c != "content of refs/heads/fedora/28/x86_64/atomic-host" {
		t.Errorf("read back %q", c)
	}
	put(t, s, "config", "new") // overwrite in place
	if c := read(t, s, "config"); c != "new" {
		t.Errorf("after overwrite: %q", c)
	}
	if err := s.Delete(ctx, "config"); err != nil {
		t.Fatal(err)
	}
	if _, ok := list(t, s)["config"]; ok {
		t.Error("deleted key still listed")
	}
	// A missing key is fs.ErrNotExist, whatever the store.
	if r, err := s.Open(ctx, "config"); !errors.Is(err, fs.ErrNotExist) {
		if r != nil {
			r.Close()
		}
		t.Errorf("Open of a deleted key: %v, want fs.ErrNotExist", err)
	}
}

// manyKeys puts more keys than a listing page holds, laid out as an ostree
// repository (where S3 lists by ranges), and lists them through lister
// (s itself when nil): each exactly once, mutable files with their
// content known.
func manyKeys(t *testing.T, s, lister Store) {
	if lister == nil {
		lister = s
	}
	keys := []string{"config", "summary", "summary.sig", "refs/heads/fedora/28/x86_64/atomic-host"}
	for i := range 1500 {
		keys = append(keys, fmt.Sprintf("objects/%02x/%062x.filez", i*256/1500, i))
	}
	// Beyond the objects, more than a page in one directory: a listing
	// that takes several requests.
	for i := range 1200 {
		keys = append(keys, fmt.Sprintf("releases/stable/%04d.json", i))
	}
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("x"), 0o644)
	sum := sha256.Sum256([]byte("x"))
	if err := parallel.Do(ctx, 32, len(keys), func(i int) error {
		return s.Put(ctx, store.Upload{Key: keys[i], Path: p, Size: 1, SHA256: hex.EncodeToString(sum[:])})
	}); err != nil {
		t.Fatal(err)
	}
	m := md5.Sum([]byte("x"))
	md5x := hex.EncodeToString(m[:])
	got := map[string]int{}
	needSum := func(k string) bool { return !strings.HasPrefix(k, "objects/") }
	err := lister.List(ctx, needSum, func(o store.Object) error {
		got[o.Key]++
		if o.Key == "summary" && o.SHA256 == "" && strings.Trim(o.ETag, `"`) != md5x {
			if _, ok := s.(mirror.Summer); !ok {
				t.Errorf("summary listed without its sha256 or MD5: %+v", o)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if got[k] != 1 {
			t.Errorf("%s listed %d times", k, got[k])
		}
	}
	if len(got) != len(keys) {
		t.Errorf("listed %d keys, want %d", len(got), len(keys))
	}
}

func multipart(t *testing.T, s Store, size int64) {
	data := make([]byte, size+size/2)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	p := filepath.Join(t.TempDir(), "big.raw.xz")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	key := "stable/x86_64/big image.raw.xz"
	if err := s.Put(ctx, store.Upload{Key: key, Path: p, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}); err != nil {
		t.Fatal(err)
	}
	if o := list(t, s)[key]; o.Size != int64(len(data)) {
		t.Errorf("listed %+v: want %d bytes", o, len(data))
	}
	back := sha256.New()
	rc, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.Copy(back, rc); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Sum(nil), sum[:]) {
		t.Error("read back differs")
	}
}

func headers(t *testing.T, s Store, url func(Store, string) string) {
	for _, tc := range []struct{ key, ctype, cache string }{
		{"summary", "application/octet-stream", mirror.CacheRevalidate},
		{"objects/ab/cd.filez", "application/octet-stream", mirror.CacheImmutable},
		{"stable/28.20180508.0.json", "application/json", mirror.CacheMutable},
	} {
		put(t, s, tc.key, "x", tc.ctype, tc.cache)
		resp, err := http.Get(url(s, tc.key))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", tc.key, resp.Status)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != tc.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tc.key, got, tc.ctype)
		}
		if got := resp.Header.Get("Cache-Control"); got != tc.cache {
			t.Errorf("%s: Cache-Control %q, want %q", tc.key, got, tc.cache)
		}
	}
}

func leftovers(t *testing.T, s Store, leave func(*testing.T, Store, string)) {
	lo, ok := s.(mirror.Leftovers)
	if !ok {
		t.Fatalf("%T leaves leftovers but cannot find them", s)
	}
	key := "images/fedora atomic.raw.xz"
	put(t, s, "images/other.qcow2", "kept")
	leave(t, s, key)
	if _, ok := list(t, s)[key]; ok {
		t.Errorf("an unfinished upload of %s is listed as an object", key)
	}
	candidates := []store.Object{{Key: key, Size: 1 << 30}}
	found, err := lo.Leftovers(ctx, candidates)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || !strings.HasPrefix(found[0].Key, "images/") || found[0].Started.IsZero() || found[0].Kind == "" {
		t.Fatalf("Leftovers = %+v, want the one left under images/, with when it started and its kind", found)
	}
	if found[0].Started.After(time.Now().Add(time.Minute)) {
		t.Errorf("leftover started %v, in the future", found[0].Started)
	}
	if err := lo.RemoveLeftover(ctx, found[0]); err != nil {
		t.Fatal(err)
	}
	if again, err := lo.Leftovers(ctx, candidates); err != nil || len(again) != 0 {
		t.Errorf("after removing it: %+v, %v", again, err)
	}
	if c := read(t, s, "images/other.qcow2"); c != "kept" {
		t.Errorf("removing a leftover changed its neighbour: %q", c)
	}
}

// lease checks what the mirror's lease depends on. A store with
// conditional writes must refuse a second lease and a write with a stale
// ETag; a store that ignores them must be found out by the lease's probe,
// so that a sync refuses it unless told --no-lock. A directory's lock
// excludes a second holder until the first lets go.
func lease(t *testing.T, s Store) {
	h := store.Holder{Host: "mirror-a.example.org", PID: 1, Tool: "storetest", Started: time.Now().UTC(), Expires: time.Now().UTC().Add(time.Hour)}
	switch d := s.(type) {
	case mirror.Locker:
		l, err := d.Lock(ctx, "dest", h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Lock(ctx, "dest", h); !errors.Is(err, store.ErrLocked) {
			t.Errorf("a second lock while the first is held: %v, want ErrLocked", err)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
		l, err = d.Lock(ctx, "dest", h)
		if err != nil {
			t.Fatalf("lock after release: %v", err)
		}
		l.Release(ctx)
	case mirror.LeaseStore:
		conditional(t, s, d, h)
	default:
		t.Fatalf("%T has neither a lock nor a lease: two syncs could write at once", s)
	}
}

func conditional(t *testing.T, s Store, d mirror.LeaseStore, h store.Holder) {
	if _, _, err := d.ReadLease(ctx); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadLease with no lease: %v, want fs.ErrNotExist", err)
	}
	etag, err := d.CreateLease(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	got, readTag, err := d.ReadLease(ctx)
	if err != nil || got.Host != h.Host || readTag != etag {
		t.Fatalf("ReadLease = %+v, %q, %v; want the holder and the ETag %q", got, readTag, err, etag)
	}
	_, createErr := d.CreateLease(ctx, store.Holder{Host: "mirror-b.example.org", PID: 2})
	_, staleErr := d.ReplaceLease(ctx, "00000000000000000000000000000000", store.Holder{Host: "mirror-b.example.org", PID: 2})
	honours := errors.Is(createErr, store.ErrConflict) && errors.Is(staleErr, store.ErrConflict)
	if !honours {
		// Whatever the store did, the lease's probe must find it out, and
		// a sync must refuse without --no-lock.
		d.DeleteLease(ctx)
		t.Logf("the store ignores conditional writes (create: %v, stale replace: %v)", createErr, staleErr)
		_, l, err := mirror.Lock(ctx, s, "dest", h, mirror.LeaseOptions{})
		if err == nil {
			err = l.Ready(ctx)
			l.Release(ctx)
		}
		if !errors.Is(err, mirror.ErrNoConditionalWrites) {
			t.Errorf("the lease on a store without conditional writes: %v, want ErrNoConditionalWrites", err)
		}
		return
	}
	// A renewal, as the lease makes them: the same holder, a later expiry.
	renewed := h
	renewed.Expires = h.Expires.Add(time.Minute)
	newTag, err := d.ReplaceLease(ctx, etag, renewed)
	if err != nil || newTag == "" || newTag == etag {
		t.Errorf("ReplaceLease with the current ETag: %q, %v; want a new ETag", newTag, err)
	}
	if _, err := d.ReplaceLease(ctx, etag, h); !errors.Is(err, store.ErrConflict) {
		t.Errorf("ReplaceLease with the old ETag: %v, want ErrConflict", err)
	}
	if err := d.DeleteLease(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReplaceLease(ctx, newTag, renewed); !errors.Is(err, store.ErrConflict) {
		t.Errorf("ReplaceLease of a removed lease: %v, want ErrConflict", err)
	}
	if _, ok := list(t, s)[store.LockKey]; ok {
		t.Errorf("%s listed after DeleteLease", store.LockKey)
	}
	// Through the mirror: the probe passes, and a second run is refused.
	_, l, err := mirror.Lock(ctx, s, "dest", h, mirror.LeaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	if err := l.Ready(ctx); err != nil {
		t.Fatalf("lease probe: %v", err)
	}
	other := h
	other.Host, other.PID = "mirror-b.example.org", 2
	if _, _, err := mirror.Lock(ctx, s, "dest2", other, mirror.LeaseOptions{}); !errors.Is(err, store.ErrLocked) {
		t.Errorf("a second run's lease: %v, want ErrLocked", err)
	}
}
