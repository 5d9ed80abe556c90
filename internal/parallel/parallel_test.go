package parallel_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/projectatomic/atomic-site/internal/parallel"
)

// Every index is called once; a cancelled context stops the feed.
func TestEach(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1000} {
		calls := make([]atomic.Int32, n)
		if err := parallel.Each(context.Background(), n, func(i int) { calls[i].Add(1) }); err != nil {
			t.Fatal(err)
		}
		for i := range calls {
			if c := calls[i].Load(); c != 1 {
				t.Errorf("n=%d: index %d called %d times", n, i, c)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var called atomic.Int32
	err := parallel.Each(ctx, 1000, func(int) { called.Add(1) })
	if !errors.Is(err, context.Canceled) || called.Load() == 1000 {
		t.Errorf("cancelled: err %v, %d of 1000 called", err, called.Load())
	}
}

// Do runs at most limit calls at once, and after a failure starts no more
// and returns the first error.
func TestDo(t *testing.T) {
	for _, limit := range []int{1, 3, 16} {
		var running, most atomic.Int32
		err := parallel.Do(context.Background(), limit, 200, func(int) error {
			n := running.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			runtime.Gosched()
			running.Add(-1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if m := most.Load(); m > int32(limit) {
			t.Errorf("limit %d: %d calls ran at once", limit, m)
		}
	}
	boom := errors.New("boom")
	var called atomic.Int32
	err := parallel.Do(context.Background(), 2, 1000, func(i int) error {
		called.Add(1)
		if i == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the failure", err)
	}
	if c := called.Load(); c > 10 {
		t.Errorf("%d calls after a failure at the fourth, with 2 at once", c)
	}
}
