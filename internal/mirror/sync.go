package mirror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/projectatomic/atomic-site/internal/store"
)

// SyncOptions say how Sync runs against one destination.
type SyncOptions struct {
	// Dest is what the destination is called: in errors, and in its lease.
	Dest string
	// Jobs caps the uploads in flight; the pacer finds how many pay.
	Jobs int
	// DryRun makes the plan only: no lease is taken, nothing is written.
	DryRun bool
	// NoLock writes without taking the lease, for a store that ignores
	// conditional writes when nothing else syncs to it.
	NoLock bool
	// Delete, when set, removes what the source no longer has, guarded.
	Delete *DeleteOptions
	// Holder names this run in the lease; Alive says whether a process of
	// this host runs, so that a dead run's lease is taken over at once.
	Holder store.Holder
	Alive  func(pid int) bool
	// Retry is how a failed upload, delete or read is tried again; a
	// throttled request also slows the pacer.
	Retry    store.RetryPolicy
	Progress Progress
	// Trace, when set, is written last, after a run that completed.
	Trace *Trace
	// Repair reads back what is already at the destination and publishes
	// again whatever is damaged (Repair).
	Repair bool
}

// Sync publishes src to dst: it takes the destination's lease (unless
// NoLock or DryRun), then at once checks that the store honours the
// conditional writes the lease depends on, removes what killed runs left,
// and plans against one listing; then it runs the plan phase by phase
// (Execute). It returns the plan, which is all a dry run makes, and the
// report of a run that started publishing. Nothing is written before the
// lease is known to exclude other runs.
func Sync(ctx context.Context, src *Source, dst Store, opts SyncOptions) (*Plan, *Report, error) {
	pacer := NewPacer(opts.Jobs)
	retry := opts.Retry
	report := retry.Report
	retry.Report = func(op, key string, attempt int, err error, wait time.Duration) {
		if errors.Is(err, store.ErrThrottled) {
			pacer.Throttled()
		}
		if report != nil {
			report(op, key, attempt, err, wait)
		}
	}
	rdst := Retry(dst, retry)
	if opts.DryRun || opts.NoLock {
		plan, err := MakePlan(ctx, src, rdst, opts.Delete)
		if err == nil && opts.Repair {
			err = Repair(ctx, plan, rdst, opts.Jobs)
		}
		if err != nil || opts.DryRun {
			return plan, nil, err
		}
		rep, err := Execute(ctx, plan, rdst, Options{Jobs: opts.Jobs, Pacer: pacer, Progress: opts.Progress, Headers: Headers, Trace: opts.Trace})
		return plan, rep, err
	}

	start := time.Now()
	runCtx, lease, err := Lock(ctx, dst, opts.Dest, opts.Holder, LeaseOptions{Alive: opts.Alive})
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err := lease.Release(context.WithoutCancel(ctx)); err != nil {
			slog.Warn("could not remove the lease; it expires by itself", "dest", opts.Dest, "err", err)
		}
	}()
	slog.Debug("took the lease", "dest", opts.Dest, "took", time.Since(start))
	pacer.StartFor(time.Since(start)) // taking the lease is one round trip
	// The check that the store honours conditional writes, the leftovers
	// and the listing, at once: each is a round trip or more, and nothing
	// is uploaded before all three are back.
	var (
		ready, clean error
		cleaned      Cleaned
		wg           sync.WaitGroup
	)
	wg.Go(func() {
		ready = lease.Ready(runCtx)
		slog.Debug("lease ready", "took", time.Since(start))
	})
	wg.Go(func() {
		cleaned, clean = CleanLeftovers(runCtx, dst, start, Candidates(src.Files))
		slog.Debug("looked for leftovers", "took", time.Since(start))
	})
	plan, err := MakePlan(runCtx, src, rdst, opts.Delete)
	if err == nil && opts.Repair {
		err = Repair(runCtx, plan, rdst, opts.Jobs)
	}
	wg.Wait()
	switch {
	case ready != nil:
		return nil, nil, ready
	case clean != nil:
		return nil, nil, fmt.Errorf("%s: %w", opts.Dest, clean)
	case err != nil:
		return nil, nil, err
	}
	rep, err := Execute(runCtx, plan, rdst, Options{Jobs: opts.Jobs, Pacer: pacer, Progress: opts.Progress, Headers: Headers,
		Trace: opts.Trace, Lease: lease, Cleaned: cleaned})
	if cause := context.Cause(runCtx); err != nil && errors.Is(cause, ErrLeaseLost) {
		err = fmt.Errorf("%w (%w)", cause, err)
	}
	return plan, rep, err
}

// Destination is one of several a source is published to at once.
type Destination struct {
	Name  string
	Store Store
	Opts  SyncOptions
}

// Outcome is what Sync came to for one destination.
type Outcome struct {
	Name   string
	Plan   *Plan
	Report *Report
	Err    error
}

// SyncAll publishes src to every destination at once, each under its own
// lease, and returns each one's outcome, in the order given: one
// destination that fails stops none of the others.
func SyncAll(ctx context.Context, src *Source, dests []Destination) []Outcome {
	out := make([]Outcome, len(dests))
	var wg sync.WaitGroup
	for i, d := range dests {
		wg.Go(func() {
			plan, rep, err := Sync(ctx, src, d.Store, d.Opts)
			out[i] = Outcome{Name: d.Name, Plan: plan, Report: rep, Err: err}
		})
	}
	wg.Wait()
	return out
}
