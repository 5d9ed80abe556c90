package parallel_test

import (
	"context"
	"errors"
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
