package mirror

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/projectatomic/atomic-site/internal/store"
)

// ErrLeaseLost is the cause of a run's context ending because its lease is
// gone (removed by hand, or taken over after it could not be renewed).
var ErrLeaseLost = errors.New("lease lost")

// ErrNoConditionalWrites says a store ignores If-Match and If-None-Match, so
// that no lease on it can exclude another run.
var ErrNoConditionalWrites = errors.New("the store ignores conditional writes (If-None-Match, If-Match), so it cannot hold a lease; run one sync at a time and pass --no-lock")

// Locker is a destination that grants leases by itself (a local
// directory's flock).
type Locker interface {
	Lock(ctx context.Context, dest string, h store.Holder) (store.Lease, error)
}

// LeaseStore is a destination that keeps a lease as an object written with
// conditional requests (S3): created only if absent, replaced only if its
// ETag is unchanged.
type LeaseStore interface {
	// CreateLease writes h only if no lease exists; ErrConflict if one does.
	CreateLease(ctx context.Context, h store.Holder) (etag string, err error)
	// ReadLease returns the lease and its ETag, or an error wrapping
	// fs.ErrNotExist.
	ReadLease(ctx context.Context) (h store.Holder, etag string, err error)
	// ReplaceLease writes h only if the lease's ETag is etag; ErrConflict
	// if it is not (or the lease is gone).
	ReplaceLease(ctx context.Context, etag string, h store.Holder) (newETag string, err error)
	// DeleteLease removes the lease.
	DeleteLease(ctx context.Context) error
}

// LeaseOptions shape a lease on a LeaseStore.
type LeaseOptions struct {
	Duration time.Duration // how long a lease lasts unrenewed (default 5 minutes)
	// Alive tells whether a process of this host is running, so that the
	// lease of a killed run of this host is taken over at once.
	Alive func(pid int) bool
	Now   func() time.Time
}

// DefaultLease is how long a lease lasts without renewal: a dead holder on
// another host blocks others this long at most.
const DefaultLease = 5 * time.Minute

// Lock takes the destination's lease for this run and returns a context
// that ends, with cause ErrLeaseLost, if the lease is lost. A destination
// that is neither a Locker nor a LeaseStore needs none.
func Lock(ctx context.Context, dst any, dest string, h store.Holder, opts LeaseOptions) (context.Context, store.Lease, error) {
	switch d := dst.(type) {
	case Locker:
		l, err := d.Lock(ctx, dest, h)
		return ctx, l, err
	case LeaseStore:
		return acquire(ctx, d, dest, h, opts)
	}
	return ctx, noLease{}, nil
}

type noLease struct{}

func (noLease) Ready(context.Context) error   { return nil }
func (noLease) Check(context.Context) error   { return nil }
func (noLease) Release(context.Context) error { return nil }

// heldHere are the destinations whose lease a run of this process holds:
// a lease naming this host and process, and not among them, was left by
// an earlier run of this process (mirror watch, a test) and is taken over.
var heldHere sync.Map

// leaseRetry is how a lease request that failed for a transient reason is
// tried again: a lease must not be lost to one reset connection. A
// conflict, a missing lease and a permanent error end it at once.
var leaseRetry = store.RetryPolicy{Attempts: 4, Backoff: 100 * time.Millisecond, Report: store.LogRetry}

// try runs op under leaseRetry.
func try[T any](ctx context.Context, op func() (T, error)) (T, error) {
	var v T
	err := leaseRetry.Do(ctx, "lease", store.LockKey, func() (err error) {
		v, err = op()
		return err
	})
	return v, err
}

type leaseRead struct {
	h    store.Holder
	etag string
}

func readLease(ctx context.Context, ls LeaseStore) (store.Holder, string, error) {
	r, err := try(ctx, func() (leaseRead, error) {
		h, etag, err := ls.ReadLease(ctx)
		return leaseRead{h, etag}, err
	})
	return r.h, r.etag, err
}

func acquire(ctx context.Context, ls LeaseStore, dest string, h store.Holder, opts LeaseOptions) (context.Context, store.Lease, error) {
	if opts.Duration <= 0 {
		opts.Duration = DefaultLease
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if _, busy := heldHere.LoadOrStore(dest, true); busy {
		return ctx, nil, fmt.Errorf("%s: %w: another sync of this process is writing to it", dest, store.ErrLocked)
	}
	ctx, l, err := acquireLease(ctx, ls, dest, h, opts)
	if err != nil {
		heldHere.Delete(dest)
	}
	return ctx, l, err
}

func acquireLease(ctx context.Context, ls LeaseStore, dest string, h store.Holder, opts LeaseOptions) (context.Context, store.Lease, error) {
	now := opts.Now().UTC()
	h.Started, h.Expires = now, now.Add(opts.Duration)
	etag, err := try(ctx, func() (string, error) { return ls.CreateLease(ctx, h) })
	if errors.Is(err, store.ErrConflict) {
		cur, curTag, rerr := readLease(ctx, ls)
		switch {
		case errors.Is(rerr, fs.ErrNotExist):
			// Released meanwhile: try once more from the start.
			etag, err = try(ctx, func() (string, error) { return ls.CreateLease(ctx, h) })
			if errors.Is(err, store.ErrConflict) {
				return ctx, nil, fmt.Errorf("%s: %w: another run took it just now", dest, store.ErrLocked)
			}
		case rerr != nil:
			return ctx, nil, fmt.Errorf("%s: read %s: %w", dest, store.LockKey, rerr)
		case now.After(cur.Expires):
			slog.Info("taking over an expired lease", "dest", dest, "holder", cur.String())
		case cur.Host == h.Host && cur.PID == h.PID:
			slog.Info("taking over a lease an earlier run of this process left", "dest", dest, "holder", cur.String())
		case cur.Host == h.Host && opts.Alive != nil && !opts.Alive(cur.PID):
			slog.Info("taking over the lease of a dead run of this host", "dest", dest, "holder", cur.String())
		default:
			return ctx, nil, &store.LockedError{Dest: dest, Holder: cur}
		}
		if rerr == nil {
			etag, err = try(ctx, func() (string, error) { return ls.ReplaceLease(ctx, curTag, h) })
			if errors.Is(err, store.ErrConflict) {
				// Another run took it over first.
				if cur, _, rerr := readLease(ctx, ls); rerr == nil {
					return ctx, nil, &store.LockedError{Dest: dest, Holder: cur}
				}
			}
		}
	}
	if err != nil {
		return ctx, nil, fmt.Errorf("%s: take lease %s: %w", dest, store.LockKey, err)
	}
	l := &s3Lease{ls: ls, dest: dest, h: h, etag: etag, opts: opts, probed: make(chan error, 1)}
	// A store that ignores If-Match lets a write with a wrong ETag
	// through: then it would let another run's If-None-Match through too.
	// Asked while the run lists the destination; Ready waits for it.
	go func() {
		probe := func() (string, error) { return ls.ReplaceLease(ctx, "00000000000000000000000000000000", h) }
		_, err := try(ctx, probe)
		switch {
		case errors.Is(err, store.ErrConflict):
			err = nil
		case err == nil:
			ls.DeleteLease(ctx)
			err = fmt.Errorf("%s: %w", dest, ErrNoConditionalWrites)
		default:
			err = fmt.Errorf("%s: check the lease: %w", dest, err)
		}
		l.probed <- err
	}()
	runCtx, cancel := context.WithCancelCause(ctx)
	l.cancel = cancel
	l.stopped = make(chan struct{})
	l.quit = make(chan struct{})
	go l.renew(runCtx)
	return runCtx, l, nil
}

// s3Lease is a lease object renewed in the background.
type s3Lease struct {
	ls     LeaseStore
	dest   string
	opts   LeaseOptions
	cancel context.CancelCauseFunc

	mu   sync.Mutex
	h    store.Holder
	etag string
	lost error

	quit, stopped chan struct{}
	once          sync.Once

	probed    chan error // the conditional-write check, once
	readyOnce sync.Once
	readyErr  error
}

// Ready waits for the check that the store honours conditional writes.
func (l *s3Lease) Ready(ctx context.Context) error {
	l.readyOnce.Do(func() {
		select {
		case l.readyErr = <-l.probed:
		case <-ctx.Done():
			l.readyErr = ctx.Err()
		}
	})
	return l.readyErr
}

// renew extends the lease every sixth of its duration: several renewals
// may fail in a row before it runs out. Once it cannot be renewed before
// it expires, or it is no longer this run's, the run's context ends.
func (l *s3Lease) renew(ctx context.Context) {
	defer close(l.stopped)
	t := time.NewTicker(l.opts.Duration / 6)
	defer t.Stop()
	for {
		select {
		case <-l.quit:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l.mu.Lock()
		h, etag := l.h, l.etag
		l.mu.Unlock()
		expires := h.Expires
		now := l.opts.Now().UTC()
		h.Expires = now.Add(l.opts.Duration)
		newTag, err := l.ls.ReplaceLease(ctx, etag, h)
		switch {
		case err == nil:
			l.mu.Lock()
			l.h, l.etag = h, newTag
			l.mu.Unlock()
		case errors.Is(err, store.ErrConflict):
			l.lose(fmt.Errorf("%w: %s: %s was removed or taken over by another run", ErrLeaseLost, l.dest, store.LockKey))
			return
		case now.Add(l.opts.Duration / 6).After(expires):
			l.lose(fmt.Errorf("%w: %s: could not renew %s before it expires: %v", ErrLeaseLost, l.dest, store.LockKey, err))
			return
		default:
			slog.Warn("lease renewal failed; trying again", "dest", l.dest, "err", err)
		}
	}
}

func (l *s3Lease) lose(err error) {
	l.mu.Lock()
	l.lost = err
	l.mu.Unlock()
	l.cancel(err)
}

// Check reads the lease back: it must still carry this run's ETag.
func (l *s3Lease) Check(ctx context.Context) error {
	l.mu.Lock()
	lost, etag := l.lost, l.etag
	l.mu.Unlock()
	if lost != nil {
		return lost
	}
	_, cur, err := readLease(ctx, l.ls)
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, store.ErrPermanent) {
		return fmt.Errorf("%s: cannot read %s to check the lease: %w", l.dest, store.LockKey, err)
	}
	if err != nil || cur != etag {
		if err == nil {
			err = errors.New("it is another run's now")
		}
		lost = fmt.Errorf("%w: %s: %s: %v", ErrLeaseLost, l.dest, store.LockKey, err)
		l.lose(lost)
		return lost
	}
	return nil
}

// Release stops renewing and removes the lease if it is still this run's:
// certainly so while it is in its first half (nobody takes over a lease
// before it expires; only mirror unlock, meant for dead runs, removes
// one), else once read back.
func (l *s3Lease) Release(ctx context.Context) error {
	var err error
	l.once.Do(func() {
		defer heldHere.Delete(l.dest)
		close(l.quit)
		<-l.stopped
		defer l.cancel(context.Canceled)
		l.mu.Lock()
		fresh := l.lost == nil && l.opts.Now().Before(l.h.Expires.Add(-l.opts.Duration/2))
		l.mu.Unlock()
		if l.Ready(ctx) != nil || !fresh && l.Check(ctx) != nil {
			return // not ours to remove
		}
		_, err = try(ctx, func() (struct{}, error) { return struct{}{}, l.ls.DeleteLease(ctx) })
	})
	return err
}
