package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/mirror"
)

func TestRetry(t *testing.T) {
	dst := newMemStore()
	fails := 2
	dst.failOn = func(string) bool { fails--; return fails >= 0 }
	var reports []string
	var waits []time.Duration
	succeeded := 0
	r := mirror.Retry(dst, mirror.RetryOptions{
		Attempts: 4, Backoff: 100 * time.Microsecond,
		Report: func(op, key string, err error, wait time.Duration) {
			reports = append(reports, op+" "+key+": "+err.Error())
			waits = append(waits, wait)
		},
		Success: func(op, key string, retries int) { succeeded = retries },
		Jitter:  func() float64 { return 0.5 }, // the nominal wait
	})
	if err := r.Put(context.Background(), mirror.Upload{Key: "k"}); err != nil {
		t.Fatalf("after two transient failures: %v", err)
	}
	if want := []string{"put k: injected failure", "put k: injected failure"}; !slices.Equal(reports, want) {
		t.Errorf("reports = %q, want %q", reports, want)
	}
	if want := []time.Duration{100 * time.Microsecond, 200 * time.Microsecond}; !slices.Equal(waits, want) {
		t.Errorf("waits = %v, want %v (doubling)", waits, want)
	}
	if succeeded != 2 {
		t.Errorf("Success heard %d retries, want 2", succeeded)
	}

	perm := &permStore{memStore: newMemStore()}
	r = mirror.Retry(perm, mirror.RetryOptions{Attempts: 4})
	if err := r.Put(context.Background(), mirror.Upload{Key: "k"}); !errors.Is(err, mirror.ErrPermanent) || perm.calls != 1 {
		t.Fatalf("permanent error: %v after %d calls, want 1 call", err, perm.calls)
	}

	dst.failOn = func(string) bool { return true }
	r = mirror.Retry(dst, mirror.RetryOptions{Attempts: 3})
	if err := r.Put(context.Background(), mirror.Upload{Key: "k"}); err == nil {
		t.Fatal("Put that always fails: no error after 3 attempts")
	}
}

func TestRetryJitter(t *testing.T) {
	for _, tc := range []struct {
		jitter float64
		want   time.Duration
	}{{0, 50 * time.Microsecond}, {0.5, 100 * time.Microsecond}, {0.999, 149900 * time.Nanosecond}} {
		dst := newMemStore()
		fails := 1
		dst.failOn = func(string) bool { fails--; return fails >= 0 }
		var got time.Duration
		r := mirror.Retry(dst, mirror.RetryOptions{Attempts: 2, Backoff: 100 * time.Microsecond,
			Jitter: func() float64 { return tc.jitter },
			Report: func(_, _ string, _ error, wait time.Duration) { got = wait }})
		if err := r.Put(context.Background(), mirror.Upload{Key: "k"}); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("jitter %v: wait %v, want %v", tc.jitter, got, tc.want)
		}
	}
}

// flakyLister fails its listing part way, the first times it is called.
type flakyLister struct {
	*memStore
	keys     []string
	failures int
}

func (f *flakyLister) List(ctx context.Context, _ func(string) bool, fn func(mirror.Object) error) error {
	for i, k := range f.keys {
		if f.failures > 0 && i == 2 {
			f.failures--
			return fmt.Errorf("connection reset")
		}
		if err := fn(mirror.Object{Key: k}); err != nil {
			return err
		}
	}
	return nil
}

// A listing that fails half way is tried again, and the callback never
// sees a key twice; an error from the callback itself is not retried.
func TestRetryList(t *testing.T) {
	f := &flakyLister{memStore: newMemStore(), keys: []string{"a", "b", "c", "d"}, failures: 2}
	r := mirror.Retry(f, mirror.RetryOptions{Attempts: 4})
	var got []string
	if err := r.List(context.Background(), nil, func(o mirror.Object) error { got = append(got, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := f.keys; !slices.Equal(got, want) {
		t.Errorf("listed %q, want %q once each", got, want)
	}

	f = &flakyLister{memStore: newMemStore(), keys: []string{"a", "b", "c"}}
	r = mirror.Retry(f, mirror.RetryOptions{Attempts: 4})
	calls := 0
	errFull := errors.New("full")
	err := r.List(context.Background(), nil, func(o mirror.Object) error { calls++; return errFull })
	if !errors.Is(err, errFull) || calls != 1 {
		t.Errorf("callback error: %v after %d calls, want it returned after 1", err, calls)
	}
}

type permStore struct {
	*memStore
	calls int
}

func (p *permStore) Put(ctx context.Context, u mirror.Upload) error {
	p.calls++
	return fmt.Errorf("access denied: %w", mirror.ErrPermanent)
}
