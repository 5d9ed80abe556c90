package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/store"
)

// The wrapper tries Put again as its policy says, and leaves List to the
// store: a listing is many requests, which a store retries one by one.
func TestRetry(t *testing.T) {
	dst := newMemStore()
	fails := 2
	dst.failOn = func(string) bool { fails--; return fails >= 0 }
	var reports []string
	r := mirror.Retry(dst, store.RetryPolicy{
		Attempts: 4, Backoff: 100 * time.Microsecond,
		Report: func(op, key string, attempt int, err error, wait time.Duration) {
			reports = append(reports, fmt.Sprintf("%s %s #%d: %v", op, key, attempt, err))
		},
	})
	if err := r.Put(context.Background(), store.Upload{Key: "k"}); err != nil {
		t.Fatalf("after two transient failures: %v", err)
	}
	if want := []string{"put k #1: injected failure", "put k #2: injected failure"}; !slices.Equal(reports, want) {
		t.Errorf("reports = %q, want %q", reports, want)
	}

	perm := &permStore{memStore: newMemStore()}
	r = mirror.Retry(perm, store.RetryPolicy{Attempts: 4})
	if err := r.Put(context.Background(), store.Upload{Key: "k"}); !errors.Is(err, store.ErrPermanent) || perm.calls != 1 {
		t.Fatalf("permanent error: %v after %d calls, want 1 call", err, perm.calls)
	}

	f := &flakyLister{memStore: newMemStore(), keys: []string{"a", "b", "c", "d"}, failures: 1}
	r = mirror.Retry(f, store.RetryPolicy{Attempts: 4})
	var got []string
	err := r.List(context.Background(), nil, func(o store.Object) error { got = append(got, o.Key); return nil })
	if err == nil || f.calls != 1 {
		t.Errorf("List: %v after %d calls, want the store's own error after its one call", err, f.calls)
	}
}

// flakyLister fails its listing part way, the first times it is called.
type flakyLister struct {
	*memStore
	keys     []string
	failures int
	calls    int
}

func (f *flakyLister) List(ctx context.Context, _ func(string) bool, fn func(store.Object) error) error {
	f.calls++
	for i, k := range f.keys {
		if f.failures > 0 && i == 2 {
			f.failures--
			return fmt.Errorf("connection reset")
		}
		if err := fn(store.Object{Key: k}); err != nil {
			return err
		}
	}
	return nil
}

type permStore struct {
	*memStore
	calls int
}

func (p *permStore) Put(ctx context.Context, u store.Upload) error {
	p.calls++
	return fmt.Errorf("access denied: %w", store.ErrPermanent)
}
