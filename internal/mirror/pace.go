package mirror

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Pacer chooses how many uploads run at once, so that nobody has to find
// the right --jobs: round trips that cost 40 ms need hundreds of requests in
// flight, a loopback server a few dozen. It starts at Start and doubles
// every Interval while throughput grows by more than a tenth; when a step
// brings nothing, it steps back and holds, trying one step up again now
// and then. A throttled request halves it. It never exceeds Max (--jobs),
// which bounds connections and memory.
type Pacer struct {
	Max      int
	Start    int
	Interval time.Duration

	mu        sync.Mutex
	cond      *sync.Cond
	limit     int
	active    int
	units     atomic.Int64 // work done: bytes, plus a request's cost per file
	throttled atomic.Bool
	peak      int
}

// requestCost is the work a request costs beyond its bytes, in bytes: a
// small file costs about a round trip, not its size.
const requestCost = 64 << 10

// NewPacer returns a pacer for at most max uploads at once.
func NewPacer(max int) *Pacer {
	p := &Pacer{Max: max, Start: min(max, 32), Interval: 150 * time.Millisecond}
	p.cond = sync.NewCond(&p.mu)
	p.limit = p.Start
	return p
}

// StartFor picks where to start from one request's round trip: far
// servers need many requests in flight from the first moment.
func (p *Pacer) StartFor(rtt time.Duration) {
	switch {
	case rtt >= 20*time.Millisecond:
		p.Start = min(p.Max, 128)
	case rtt >= 5*time.Millisecond:
		p.Start = min(p.Max, 64)
	default:
		return
	}
	p.setLimit(p.Start)
}

// FixedPacer runs exactly n uploads at once.
func FixedPacer(n int) *Pacer {
	p := NewPacer(n)
	p.Start, p.limit = n, n
	return p
}

// Throttled tells the pacer the store asked for fewer requests.
func (p *Pacer) Throttled() { p.throttled.Store(true) }

// Peak is the most uploads that ran at once.
func (p *Pacer) Peak() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

func (p *Pacer) acquire(ctx context.Context) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.active >= p.limit && ctx.Err() == nil {
		p.cond.Wait()
	}
	if ctx.Err() != nil {
		return false
	}
	p.active++
	p.peak = max(p.peak, p.active)
	return true
}

func (p *Pacer) release(size int64) {
	p.units.Add(size + requestCost)
	p.mu.Lock()
	p.active--
	p.mu.Unlock()
	p.cond.Signal()
}

// cancel gives back a slot that did no work.
func (p *Pacer) cancel() {
	p.mu.Lock()
	p.active--
	p.mu.Unlock()
	p.cond.Signal()
}

func (p *Pacer) setLimit(n int) {
	p.mu.Lock()
	p.limit = max(1, min(n, p.Max))
	p.mu.Unlock()
	p.cond.Broadcast()
}

// steer adjusts the limit until ctx ends.
func (p *Pacer) steer(ctx context.Context) {
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	// wake waiters when the phase ends
	stop := context.AfterFunc(ctx, func() { p.cond.Broadcast() })
	defer stop()
	var (
		lastUnits = p.units.Load()
		lastTime  = time.Now()
		before    float64 // the rate before the last step up
		stepped   bool    // the last interval began with a step up
		holding   int     // intervals since the pacer settled
	)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now, units := time.Now(), p.units.Load()
		rate := float64(units-lastUnits) / now.Sub(lastTime).Seconds()
		lastUnits, lastTime = units, now
		p.mu.Lock()
		limit, busy := p.limit, p.active
		p.mu.Unlock()
		switch {
		case p.throttled.Swap(false):
			p.setLimit(limit / 2)
			stepped, holding = false, 0
			slog.Info("store asks for fewer requests", "uploads", max(1, limit/2))
		case busy < limit:
			// Not enough work left to fill the limit: nothing to learn.
		case stepped && rate < before*1.1:
			p.setLimit(limit / 2) // the step brought nothing: step back, hold
			stepped, holding = false, 1
		case (stepped || holding%8 == 0) && limit < p.Max:
			// The last step paid, or it is time to try one again.
			before, stepped = rate, true
			p.setLimit(limit * 2)
			slog.Debug("more uploads at once", "uploads", min(limit*2, p.Max), "rate", int64(rate))
		default:
			stepped = false
			holding++
		}
	}
}
