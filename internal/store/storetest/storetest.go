// Package storetest is the conformance suite every mirror destination
// passes: the local directory and S3 (against a real MinIO) alike.
package storetest

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/store"
)

// Store is a destination under test: a mirror.Store that can also be read.
type Store interface {
	mirror.Store
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// Run runs the suite on a fresh, empty store from newStore.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	file := func(t *testing.T, content string) (string, string) {
		p := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(content))
		return p, hex.EncodeToString(sum[:])
	}
	list := func(t *testing.T, s Store) map[string]store.Object {
		got := map[string]store.Object{}
		if err := s.List(ctx, nil, func(o store.Object) error { got[o.Key] = o; return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	read := func(t *testing.T, s Store, key string) string {
		r, err := s.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	t.Run("empty", func(t *testing.T) {
		if got := list(t, newStore(t)); len(got) != 0 {
			t.Errorf("new store lists %v", got)
		}
	})
	t.Run("put list open delete", func(t *testing.T) {
		s := newStore(t)
		keys := []string{"config", "refs/heads/fedora/28/x86_64/atomic-host", "objects/ab/cdef.filez"}
		for _, k := range keys {
			p, sum := file(t, "content of "+k)
			if err := s.Put(ctx, store.Upload{Key: k, Path: p, Size: int64(len("content of " + k)), SHA256: sum,
				ContentType: "text/plain", CacheControl: mirror.CacheMutable}); err != nil {
				t.Fatalf("Put %s: %v", k, err)
			}
		}
		got := list(t, s)
		var names []string
		for k, o := range got {
			names = append(names, k)
			if o.Size != int64(len("content of "+k)) {
				t.Errorf("%s: size %d", k, o.Size)
			}
			// The content of a small file must be known from the
			// listing (its sha256, or its MD5 as a single-part ETag) or
			// cheaply from the store.
			if want := md5.Sum([]byte("content of " + k)); o.SHA256 == "" && strings.Trim(o.ETag, `"`) != hex.EncodeToString(want[:]) {
				if sm, ok := s.(mirror.Summer); !ok {
					t.Errorf("%s: no sha256 or MD5 ETag in the listing, and the store cannot tell its content", k)
				} else if sum, err := sm.SHA256(ctx, k); err != nil || sum == "" {
					t.Errorf("%s: SHA256 = %q, %v", k, sum, err)
				}
			}
		}
		slices.Sort(names)
		slices.Sort(keys)
		if !slices.Equal(names, keys) {
			t.Fatalf("listed %v, want %v", names, keys)
		}
		if c := read(t, s, "refs/heads/fedora/28/x86_64/atomic-host"); c != "content of refs/heads/fedora/28/x86_64/atomic-host" {
			t.Errorf("read back %q", c)
		}
		// Overwrite in place.
		p, sum := file(t, "new")
		if err := s.Put(ctx, store.Upload{Key: "config", Path: p, Size: 3, SHA256: sum}); err != nil {
			t.Fatal(err)
		}
		if c := read(t, s, "config"); c != "new" {
			t.Errorf("after overwrite: %q", c)
		}
		if err := s.Delete(ctx, "config"); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "config"); err != nil {
			t.Errorf("deleting a missing key: %v", err)
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
	})
}
