package mirror

import (
	"context"
	"fmt"
	"io"

	"github.com/projectatomic/atomic-site/internal/store"
)

// Opener is a store whose objects can be read back.
type Opener interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// Retrying is a store wrapped by Retry. It is a Summer too when the store
// it wraps is one.
type Retrying interface {
	Store
	Reader
}

// Retry wraps a store so that Put, Delete and, where the store has them,
// Open and SHA256 are tried again after a transient failure, as p says.
// List is the store's own: a listing is many requests, and a store that
// makes them over a network retries each with the same policy, resuming
// after the last key it delivered (store/s3), which no wrapper could.
func Retry(s Store, p store.RetryPolicy) Retrying {
	r := &retryStore{Store: s, p: p}
	if sum, ok := s.(Summer); ok {
		return &retrySummer{retryStore: r, sum: sum}
	}
	return r
}

type retryStore struct {
	Store
	p store.RetryPolicy
}

type retrySummer struct {
	*retryStore
	sum Summer
}

func (r *retryStore) Put(ctx context.Context, u store.Upload) error {
	return r.p.Do(ctx, "put", u.Key, func() error { return r.Store.Put(ctx, u) })
}

// CopyChecked copies server side where the store can, trying again
// after a transient failure; see ServerCopier.
func (r *retryStore) CopyChecked(ctx context.Context, src any, key string, u store.Upload) error {
	c, ok := r.Store.(ServerCopier)
	if !ok {
		return fmt.Errorf("%s: %w", key, store.ErrNoServerCopy)
	}
	return r.p.Do(ctx, "copy", u.Key, func() error { return c.CopyChecked(ctx, src, key, u) })
}

func (r *retryStore) Delete(ctx context.Context, key string) error {
	return r.p.Do(ctx, "delete", key, func() error { return r.Store.Delete(ctx, key) })
}

// Open opens key, trying again if opening fails; a read that fails later
// is the caller's to retry.
func (r *retryStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	o, ok := r.Store.(Opener)
	if !ok {
		return nil, fmt.Errorf("open %s: %w: the store cannot read objects", key, store.ErrPermanent)
	}
	var rc io.ReadCloser
	err := r.p.Do(ctx, "open", key, func() (err error) {
		rc, err = o.Open(ctx, key)
		return err
	})
	return rc, err
}

func (r *retrySummer) SHA256(ctx context.Context, key string) (string, error) {
	var sum string
	err := r.p.Do(ctx, "sha256", key, func() (err error) {
		sum, err = r.sum.SHA256(ctx, key)
		return err
	})
	return sum, err
}
