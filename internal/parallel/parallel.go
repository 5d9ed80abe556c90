// Package parallel runs independent pieces of CPU-bound work on every core.
package parallel

import (
	"context"
	"runtime"
	"sync"
)

// Each calls f(i) for every i in [0, n), on as many goroutines as there
// are cores, and returns when all calls have. Once ctx is done it starts
// no more calls and returns ctx's error. f must be safe to call
// concurrently; results go in slots indexed by i.
func Each(ctx context.Context, n int, f func(i int)) error {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return ctx.Err()
}
