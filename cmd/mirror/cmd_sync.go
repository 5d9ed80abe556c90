package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/bytesize"
	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/lockfile"
	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/trust"
)

type syncOptions struct {
	storeOptions
	keys        string
	manifests   string
	config      string
	delete      bool
	maxDelete   string
	deleteGrace time.Duration
	dryRun      bool
	noLock      bool
	jsonOut     bool
	progress    string
	run         runSettings
}

func (o *syncOptions) addFlags(cmd *cobra.Command) {
	o.storeOptions.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.keys, "keys", "", "trusted keys: check release files against their signed manifests before upload")
	f.StringVar(&o.config, "config", "", "TOML file of named targets to sync to concurrently, instead of DEST")
	f.StringVar(&o.manifests, "manifests", "", "signed manifests (with --keys): every ref must point at a commit a released, unrevoked build names")
	f.BoolVar(&o.delete, "delete", false, "remove destination keys the source no longer has, after the new summary is published and --delete-grace has passed")
	f.StringVar(&o.maxDelete, "max-delete", "10%", "with --delete: refuse the run if it would delete more than N keys, or P% of the destination")
	f.DurationVar(&o.deleteGrace, "delete-grace", time.Hour, "with --delete: how long a key must stay missing from the source before it is deleted (longer than clients cache the summary)")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan and change nothing (takes no lease)")
	f.BoolVar(&o.noLock, "no-lock", false, "do not take the destination's lease: only for a store that ignores conditional writes, when nothing else can sync to it")
	f.BoolVar(&o.jsonOut, "json", false, "print a machine-readable summary at the end")
	f.StringVar(&o.progress, "progress", "auto", "progress display: auto (a bar on a terminal, else log lines), bar, log or none")
}

func newSyncCommand() *cobra.Command {
	var opts syncOptions
	cmd := &cobra.Command{
		Use:   "sync SRC [DEST]",
		Short: "Publish SRC (an ostree archive repository or a directory of release files) to DEST",
		Long: `Publish SRC to DEST in phases, each complete before the next starts:

  ostree repository: file objects, dirtree/dirmeta, commits, static delta
  parts, superblocks, delta indexes, config, refs, summary, summary.sig.
  release files: artifacts, then the manifests that name them, then the
  manifests' signatures.

DEST is s3://BUCKET/PREFIX (with --endpoint for S3-compatible servers;
credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the shared
credentials file or the instance role) or a local directory. The
destination is listed once; what is there with the right size (and, for
refs, summary and other mutable files, the right sha256) is not sent again.
A failure stops the run before the next phase; running again resumes.

One run at a time writes to a destination: a run takes its lease
(.mirror/lock: on S3 an object written with If-None-Match and renewed
with If-Match, in a directory an flock) before it lists anything, and a
second run refuses at once, naming the holder (exit 3). Holding it, a run
aborts the incomplete uploads and removes the temporary files that killed
runs left. Before it publishes any ref, it walks every ref to every object
the commit needs; a ref that is not whole stops the run there.`,
		Args: cli.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSync(cmd.Context(), cmd, opts, args)
		},
	}
	opts.addFlags(cmd)
	return cmd
}

func runSync(ctx context.Context, cmd *cobra.Command, opts syncOptions, args []string) error {
	var targets []mirror.Target
	switch {
	case opts.config != "" && len(args) == 2:
		return cli.Usagef("sync: give DEST or --config, not both")
	case opts.config != "":
		var err error
		if targets, err = mirror.LoadTargets(opts.config); err != nil {
			return err
		}
	case len(args) == 2:
		targets = []mirror.Target{{Name: args[1], Endpoint: opts.endpoint, Region: opts.region}}
	default:
		return cli.Usagef("sync: DEST is required (or --config)")
	}
	del, err := opts.deleteOptions(cmd)
	if err != nil {
		return err
	}
	if opts.manifests != "" && opts.keys == "" {
		return cli.Usagef("sync: --manifests needs --keys, to verify them")
	}
	var keys *trust.Keyring
	if opts.keys != "" {
		if keys, err = trust.LoadKeys(opts.keys); err != nil {
			return err
		}
	}
	src, err := mirror.Open(ctx, args[0], keys)
	if err != nil {
		return err
	}
	if opts.manifests != "" {
		cat, err := catalog.Load(ctx, opts.manifests, keys)
		if err != nil {
			return err
		}
		if err := src.ApplyGate(mirror.NewGate(cat)); err != nil {
			return err
		}
	}
	state, err := src.State()
	if err != nil {
		return err
	}
	trace := func(dest string) *mirror.Trace {
		h := holder()
		return &mirror.Trace{Time: time.Now().UTC(), Tool: h.Tool, Host: h.Host, Destination: dest, Source: state}
	}
	opts.run = runSettings{del: del, trace: trace}
	out := cmd.OutOrStdout()
	if len(targets) == 1 && opts.config == "" {
		rep, err := syncOne(ctx, src, args[1], opts.storeOptions, opts, out, cmd.ErrOrStderr())
		return finishReport(out, opts, []namedReport{newNamedReport(args[1], rep, err)}, err)
	}
	// Several regions at once, each with its own report.
	reports := make([]namedReport, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			so := opts.storeOptions
			so.endpoint, so.region = t.Endpoint, t.Region
			o := opts
			o.progress = "log" // bars of several targets would fight over the terminal
			rep, err := syncOne(ctx, src, t.Dest(), so, o, io.Discard, cmd.ErrOrStderr())
			if err != nil {
				err = fmt.Errorf("target %s: %w", t.Name, err)
			}
			reports[i] = newNamedReport(t.Name, rep, err)
			errs[i] = err
		})
	}
	wg.Wait()
	return finishReport(out, opts, reports, errors.Join(errs...))
}

// namedReport is one target's outcome, for people and for --json: a run
// that failed before it began has no report, but still its error.
type namedReport struct {
	Name string `json:"target"`
	*mirror.Report
	Error string `json:"error,omitempty"`
	ran   bool
}

func newNamedReport(name string, rep *mirror.Report, err error) namedReport {
	r := namedReport{Name: name, Report: rep, ran: rep != nil}
	if rep == nil {
		r.Report = &mirror.Report{}
	}
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

// runSettings are what runSync works out once for every target.
type runSettings struct {
	del   *mirror.DeleteOptions // nil without --delete
	trace func(dest string) *mirror.Trace
}

// deleteOptions checks the deletion flags. They mean nothing without
// --delete, so giving them alone is a mistake worth saying.
func (o *syncOptions) deleteOptions(cmd *cobra.Command) (*mirror.DeleteOptions, error) {
	if !o.delete {
		for _, f := range []string{"max-delete", "delete-grace"} {
			if cmd.Flags().Changed(f) {
				return nil, cli.Usagef("sync: --%s applies only with --delete", f)
			}
		}
		return nil, nil
	}
	limit, err := mirror.ParseLimit(o.maxDelete)
	if err != nil {
		return nil, cli.Usagef("--max-delete %v", err)
	}
	if o.deleteGrace < 0 {
		return nil, cli.Usagef("--delete-grace %s: want 0s or more", o.deleteGrace)
	}
	return &mirror.DeleteOptions{Max: limit, Grace: o.deleteGrace, Now: time.Now()}, nil
}

func syncOne(ctx context.Context, src *mirror.Source, dest string, so storeOptions, opts syncOptions, out, stderr io.Writer) (*mirror.Report, error) {
	// A run that takes a lease learns from it whether the bucket is
	// there; only a dry run asks first.
	d, err := openDest(ctx, dest, so, opts.dryRun || opts.noLock)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	pacer := mirror.NewPacer(so.jobs)
	dst := retried(d, pacer)
	var (
		lease   mirror.Lease
		cleaned mirror.Cleaned
		plan    *mirror.Plan
	)
	if opts.dryRun || opts.noLock {
		plan, err = mirror.MakePlan(ctx, src, dst, opts.run.del)
	} else {
		var release func()
		start := time.Now()
		ctx, lease, release, err = lock(ctx, d, dest)
		if err != nil {
			return nil, err
		}
		defer release()
		slog.Debug("took the lease", "dest", dest, "took", time.Since(start))
		pacer.StartFor(time.Since(start)) // taking the lease is one round trip
		// The check that the store honours conditional writes, the
		// leftovers and the listing, at once: each is a round trip or
		// more, and nothing is uploaded before all three are back.
		var ready, clean error
		var wg sync.WaitGroup
		wg.Go(func() {
			ready = lease.Ready(ctx)
			slog.Debug("lease ready", "took", time.Since(start))
		})
		wg.Go(func() {
			cleaned, clean = mirror.CleanLeftovers(ctx, d, start, mirror.Candidates(src.Files))
			slog.Debug("looked for leftovers", "took", time.Since(start))
		})
		plan, err = mirror.MakePlan(ctx, src, dst, opts.run.del)
		wg.Wait()
		switch {
		case ready != nil:
			err = ready
		case clean != nil:
			err = fmt.Errorf("%s: %w", dest, clean)
		}
	}
	if err != nil {
		return nil, err
	}
	if opts.dryRun {
		printPlan(out, dest, plan, opts.run.del)
		if len(src.Refused) > 0 {
			return nil, errors.Join(src.Refused...)
		}
		return nil, nil
	}
	prog := newProgress(opts.progress, dest, stderr)
	defer prog.Close()
	rep, err := mirror.Execute(ctx, plan, dst, mirror.Options{Jobs: so.jobs, Pacer: pacer, Progress: prog, Headers: mirror.Headers,
		Trace: opts.run.trace(dest), Lease: lease, Cleaned: cleaned})
	if cause := context.Cause(ctx); err != nil && errors.Is(cause, mirror.ErrLeaseLost) {
		err = fmt.Errorf("%w (%w)", cause, err)
	}
	return rep, err
}

// holder is this run, as its lease names it.
func holder() mirror.Holder {
	host, _ := os.Hostname()
	info, _ := debug.ReadBuildInfo()
	return mirror.Holder{Host: host, PID: os.Getpid(), Tool: "mirror " + cli.Version(info)}
}

// exitLocked is the exit code of a run refused because another holds the
// destination: a timer can tell it from a failure.
const exitLocked = 3

// lock takes the destination's lease. The returned context ends if the
// lease is lost; release gives it up.
func lock(ctx context.Context, d destination, dest string) (context.Context, mirror.Lease, func(), error) {
	runCtx, lease, err := mirror.Lock(ctx, d, dest, holder(), mirror.LeaseOptions{Alive: lockfile.Alive})
	if errors.Is(err, mirror.ErrLocked) {
		return ctx, nil, nil, &cli.ExitError{Code: exitLocked, Err: err}
	}
	if err != nil {
		return ctx, nil, nil, err
	}
	release := func() {
		if err := lease.Release(context.WithoutCancel(ctx)); err != nil {
			slog.Warn("could not remove the lease; it expires by itself", "dest", dest, "err", err)
		}
	}
	return runCtx, lease, release, nil
}

func printPlan(w io.Writer, dest string, p *mirror.Plan, del *mirror.DeleteOptions) {
	n, b := p.Totals()
	fmt.Fprintf(w, "plan for %s (%s): upload %d files, %s; %d already there\n", dest, p.Source.Kind, n, bytesize.Format(b), p.Skipped)
	for i, name := range p.Source.Phases {
		if pn, pb := p.PhaseTotals(i); pn > 0 {
			fmt.Fprintf(w, "  %-18s %7d files %12s\n", name, pn, bytesize.Format(pb))
		}
	}
	for _, k := range p.Delete {
		fmt.Fprintf(w, "  delete %s\n", k)
	}
	if p.Pending != nil {
		due := map[string]bool{}
		for _, k := range p.Delete {
			due[k] = true
		}
		for _, k := range p.Pending.Sorted() {
			if !due[k] {
				since := p.Pending.Keys[k]
				fmt.Fprintf(w, "  pending %s (missing since %s, deleted from %s)\n", k,
					since.Format(time.RFC3339), since.Add(del.Grace).Format(time.RFC3339))
			}
		}
	}
	for _, err := range p.Source.Refused {
		fmt.Fprintf(w, "  refused: %v\n", err)
	}
}

func finishReport(w io.Writer, opts syncOptions, reports []namedReport, err error) error {
	if opts.dryRun {
		return err
	}
	if opts.jsonOut {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		var v any = reports
		if len(reports) == 1 {
			v = reports[0]
		}
		if eerr := enc.Encode(v); eerr != nil && err == nil {
			err = eerr
		}
		return err
	}
	for _, r := range reports {
		if !r.ran {
			continue
		}
		state := "published"
		if !r.Complete {
			state = "stopped after publishing"
		}
		pending := ""
		if r.Pending > 0 {
			pending = fmt.Sprintf("; %d waiting out --delete-grace", r.Pending)
		}
		cleaned := ""
		if c := r.Cleaned; c.Uploads+c.TempFiles > 0 {
			cleaned = fmt.Sprintf("; removed %d incomplete uploads and %d temporary files of earlier runs (%s)", c.Uploads, c.TempFiles, bytesize.Format(c.Bytes))
		}
		fmt.Fprintf(w, "%s: %s %d files (%s) in %.1fs; %d already there; %d deleted%s%s\n",
			r.Name, state, r.Files, bytesize.Format(r.Bytes), r.Seconds, r.Skipped, r.Deleted, pending, cleaned)
	}
	return err
}
