package store

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"time"
)

// RetryPolicy says how a request that failed for a transient reason is
// tried again (after restic's backend/retry): a few tries with exponential
// backoff and jitter, and what happens reported through callbacks, for the
// command to show. It is the one retry loop of the project: the engine's
// store wrapper, a store's listing (one request at a time) and the lease
// all go through Do.
type RetryPolicy struct {
	Attempts int           // tries in all; at least 1
	Backoff  time.Duration // the first wait; each later wait doubles
	// Report hears each failure that will be tried again, the attempt
	// that failed (1 for the first) and the wait before the next.
	Report func(op, key string, attempt int, err error, wait time.Duration)
	// Success hears an operation that succeeded after failing.
	Success func(op, key string, retries int)
	// Jitter returns a number in [0, 1) (default: math/rand/v2): each
	// wait is between half and one and a half times the nominal one, so
	// that workers failing together do not retry together.
	Jitter func() float64
}

// Do calls fn until it succeeds, fails for good, or has been tried
// p.Attempts times. An error wrapping ErrPermanent, ErrConflict (a
// precondition that a retry cannot change) or fs.ErrNotExist, and a done
// context, end it at once.
func (p RetryPolicy) Do(ctx context.Context, op, key string, fn func() error) error {
	wait := p.Backoff
	jitter := p.Jitter
	if jitter == nil {
		jitter = rand.Float64
	}
	attempts := max(p.Attempts, 1)
	for attempt := 1; ; attempt++ {
		err := fn()
		switch {
		case err == nil:
			if attempt > 1 && p.Success != nil {
				p.Success(op, key, attempt-1)
			}
			return nil
		case errors.Is(err, ErrPermanent), errors.Is(err, ErrConflict), errors.Is(err, fs.ErrNotExist), ctx.Err() != nil, attempt >= attempts:
			return err
		}
		d := time.Duration(float64(wait) * (0.5 + jitter()))
		if p.Report != nil {
			p.Report(op, key, attempt, err, d)
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		wait *= 2
	}
}

// LogRetry is a RetryPolicy's Report that logs each retry at info level,
// with the operation, the key, the attempt that failed and why: a run
// that is trying again says so as it goes.
func LogRetry(op, key string, attempt int, err error, wait time.Duration) {
	slog.Info("retrying", "op", op, "key", key, "attempt", attempt, "err", err, "in", wait.Round(time.Millisecond))
}
