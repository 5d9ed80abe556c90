package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// ErrPermanent marks errors that trying again cannot fix (access denied,
// no such bucket).
var ErrPermanent = errors.New("permanent")

// Opener is a store whose objects can be read back.
type Opener interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// RetryOptions shape the retries of a store (after restic's
// backend/retry): a few tries with exponential backoff and jitter, and
// what happens reported through callbacks, for the command to show.
type RetryOptions struct {
	Attempts int           // tries in all; at least 1
	Backoff  time.Duration // the first wait; each later wait doubles
	// Report hears each failure that will be tried again, and the wait
	// before the next try.
	Report func(op, key string, err error, wait time.Duration)
	// Success hears an operation that succeeded after failing.
	Success func(op, key string, retries int)
	// Jitter returns a number in [0, 1) (default: math/rand/v2): each
	// wait is between half and one and a half times the nominal one, so
	// that workers failing together do not retry together.
	Jitter func() float64
}

// Retrying is a store wrapped by Retry. It is a Summer too when the store
// it wraps is one.
type Retrying interface {
	Store
	Reader
}

// Retry wraps a store so that List, Put, Delete and, where the store has
// them, Open and SHA256 are tried again after a transient failure. Errors
// wrapping ErrPermanent, an error returned by List's callback, and a done
// context end it at once. A List tried again never hands the callback a
// key it has already seen.
func Retry(s Store, opts RetryOptions) Retrying {
	if opts.Jitter == nil {
		opts.Jitter = rand.Float64
	}
	r := &retryStore{Store: s, opts: opts}
	if sum, ok := s.(Summer); ok {
		return &retrySummer{retryStore: r, sum: sum}
	}
	return r
}

type retryStore struct {
	Store
	opts RetryOptions
}

type retrySummer struct {
	*retryStore
	sum Summer
}

// stop carries an error that must not be retried through do.
type stop struct{ err error }

func (s stop) Error() string { return s.err.Error() }

func (r *retryStore) do(ctx context.Context, op, key string, fn func() error) error {
	wait := r.opts.Backoff
	attempts := max(r.opts.Attempts, 1)
	for i := 0; ; i++ {
		err := fn()
		var st stop
		switch {
		case err == nil:
			if i > 0 && r.opts.Success != nil {
				r.opts.Success(op, key, i)
			}
			return nil
		case errors.As(err, &st):
			return st.err
		case errors.Is(err, ErrPermanent), ctx.Err() != nil, i == attempts-1:
			return err
		}
		d := time.Duration(float64(wait) * (0.5 + r.opts.Jitter()))
		if r.opts.Report != nil {
			r.opts.Report(op, key, err, d)
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
		wait *= 2
	}
}

func (r *retryStore) List(ctx context.Context, needSum func(string) bool, fn func(Object) error) error {
	seen := map[string]bool{}
	return r.do(ctx, "list", "", func() error {
		return r.Store.List(ctx, needSum, func(o Object) error {
			if seen[o.Key] {
				return nil
			}
			seen[o.Key] = true
			if err := fn(o); err != nil {
				return stop{err}
			}
			return nil
		})
	})
}

func (r *retryStore) Put(ctx context.Context, u Upload) error {
	return r.do(ctx, "put", u.Key, func() error { return r.Store.Put(ctx, u) })
}

func (r *retryStore) Delete(ctx context.Context, key string) error {
	return r.do(ctx, "delete", key, func() error { return r.Store.Delete(ctx, key) })
}

// Open opens key, trying again if opening fails; a read that fails later
// is the caller's to retry.
func (r *retryStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	o, ok := r.Store.(Opener)
	if !ok {
		return nil, fmt.Errorf("open %s: %w: the store cannot read objects", key, ErrPermanent)
	}
	var rc io.ReadCloser
	err := r.do(ctx, "open", key, func() (err error) {
		rc, err = o.Open(ctx, key)
		return err
	})
	return rc, err
}

func (r *retrySummer) SHA256(ctx context.Context, key string) (string, error) {
	var sum string
	err := r.do(ctx, "sha256", key, func() (err error) {
		sum, err = r.sum.SHA256(ctx, key)
		return err
	})
	return sum, err
}
