// Package parallel runs independent pieces of work at once: CPU-bound work
// on every core, requests as many at a time as a caller allows. It is the
// one worker pool of the project.
package parallel

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Each calls f(i) for every i in [0, n), on as many goroutines as there
// are cores, and returns when all calls have. Once ctx is done it starts
// no more calls and returns ctx's error. f must be safe to call
// concurrently; results go in slots indexed by i.
func Each(ctx context.Context, n int, f func(i int)) error {
	return Do(ctx, 0, n, func(i int) error { f(i); return nil })
}

// Do calls f(i) for every i in [0, n) on at most limit goroutines (one per
// core when limit is below 1). After the first error, or once ctx is done,
// it starts no more calls; it returns when the calls under way have, with
// the first error, or else ctx's.
func Do(ctx context.Context, limit, n int, f func(i int) error) error {
	if limit < 1 {
		limit = runtime.GOMAXPROCS(0)
	}
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
		failed   atomic.Bool
	)
	for range min(limit, n) {
		wg.Go(func() {
			for !failed.Load() && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}
