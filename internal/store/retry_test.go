package store_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/store"
)

func TestRetryPolicy(t *testing.T) {
	errReset := errors.New("connection reset")
	for _, tc := range []struct {
		name     string
		fails    int   // transient failures before success
		err      error // what each failure returns
		attempts int
		wantErr  bool
		calls    int
	}{
		{"succeeds after two failures", 2, errReset, 4, false, 3},
		{"gives up after its attempts", 10, errReset, 3, true, 3},
		{"a permanent error ends it", 10, fmt.Errorf("access denied: %w", store.ErrPermanent), 4, true, 1},
		{"a conflict ends it", 10, fmt.Errorf("lease: %w", store.ErrConflict), 4, true, 1},
		{"a missing object ends it", 10, fmt.Errorf("open: %w", fs.ErrNotExist), 4, true, 1},
		{"one attempt at least", 1, errReset, 0, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reports []string
			var waits []time.Duration
			retries := -1
			p := store.RetryPolicy{
				Attempts: tc.attempts, Backoff: 100 * time.Microsecond,
				Report: func(op, key string, attempt int, err error, wait time.Duration) {
					reports = append(reports, fmt.Sprintf("%s %s #%d: %v", op, key, attempt, err))
					waits = append(waits, wait)
				},
				Success: func(op, key string, n int) { retries = n },
				Jitter:  func() float64 { return 0.5 }, // the nominal wait
			}
			calls := 0
			err := p.Do(context.Background(), "put", "k", func() error {
				calls++
				if calls <= tc.fails {
					return tc.err
				}
				return nil
			})
			if (err != nil) != tc.wantErr || calls != tc.calls {
				t.Fatalf("err %v after %d calls, want error %v after %d", err, calls, tc.wantErr, tc.calls)
			}
			if len(reports) != tc.calls-1 {
				t.Errorf("reports = %q, want one per retry", reports)
			}
			for i, w := range waits {
				if want := 100 * time.Microsecond << i; w != want {
					t.Errorf("wait %d = %v, want %v (doubling)", i, w, want)
				}
			}
			if len(reports) > 0 && reports[0] != fmt.Sprintf("put k #1: %v", tc.err) {
				t.Errorf("first report %q does not name the op, key, attempt and reason", reports[0])
			}
			if !tc.wantErr && tc.calls > 1 && retries != tc.calls-1 {
				t.Errorf("Success heard %d retries, want %d", retries, tc.calls-1)
			}
		})
	}
}

func TestRetryJitter(t *testing.T) {
	for _, tc := range []struct {
		jitter float64
		want   time.Duration
	}{{0, 50 * time.Microsecond}, {0.5, 100 * time.Microsecond}, {0.999, 149900 * time.Nanosecond}} {
		var got []time.Duration
		p := store.RetryPolicy{Attempts: 2, Backoff: 100 * time.Microsecond,
			Jitter: func() float64 { return tc.jitter },
			Report: func(_, _ string, _ int, _ error, wait time.Duration) { got = append(got, wait) }}
		fails := 1
		if err := p.Do(context.Background(), "put", "k", func() error {
			fails--
			if fails >= 0 {
				return errors.New("reset")
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []time.Duration{tc.want}) {
			t.Errorf("jitter %v: waits %v, want [%v]", tc.jitter, got, tc.want)
		}
	}
}

// A done context ends the wait at once.
func TestRetryCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := store.RetryPolicy{Attempts: 5, Backoff: time.Hour,
		Report: func(string, string, int, error, time.Duration) { cancel() }}
	start := time.Now()
	err := p.Do(ctx, "put", "k", func() error { return errors.New("reset") })
	if !errors.Is(err, context.Canceled) || time.Since(start) > 10*time.Second {
		t.Errorf("err %v after %v, want the context's at once", err, time.Since(start))
	}
}
