package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/bytesize"
	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/gpgsig"
	"github.com/projectatomic/atomic-site/internal/lockfile"
	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/store/s3"
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
	refs        []string
	depth       int
	repair      bool
	gpgKeyring  string
	gpgImport   string
	srcEndpoint string
}

func (o *syncOptions) addFlags(cmd *cobra.Command) {
	o.storeOptions.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.keys, "keys", "", "trusted keys: check release files against their signed manifests before upload")
	f.StringVar(&o.config, "config", "", "TOML file of named targets to sync to concurrently, instead of DEST")
	f.StringVar(&o.manifests, "manifests", "", "with --keys: a directory of signed manifests (every ref must point at a commit a released, unrevoked build names), or, for release files served over http(s), the URL of the site whose index.json lists them")
	f.BoolVar(&o.delete, "delete", false, "remove destination keys the source no longer has, after the new summary is published and --delete-grace has passed")
	f.StringVar(&o.maxDelete, "max-delete", "10%", "with --delete: refuse the run if it would delete more than N keys, or P% of the destination")
	f.DurationVar(&o.deleteGrace, "delete-grace", time.Hour, "with --delete: how long a key must stay missing from the source before it is deleted (longer than clients cache the summary)")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan and change nothing (takes no lease)")
	f.BoolVar(&o.noLock, "no-lock", false, "do not take the destination's lease: only for a store that ignores conditional writes, when nothing else can sync to it")
	f.BoolVar(&o.jsonOut, "json", false, "print a machine-readable summary at the end")
	f.StringVar(&o.progress, "progress", "auto", "progress display: auto (a bar on a terminal, else log lines), bar, log or none")
	f.StringArrayVar(&o.refs, "ref", nil, "with an http(s):// SRC: mirror only this ref, read from refs/heads/REF (repeat for more); the upstream's summary is then not mirrored")
	f.BoolVar(&o.repair, "repair", false, "read back everything already at the destination and publish again whatever is damaged (what verify --deep reports)")
	f.StringVar(&o.gpgKeyring, "gpg-keyring", "", "with an http(s):// SRC: OpenPGP keys (armored or binary) that must have signed the upstream's summary and every commit, as ostree's gpg-verify and gpg-verify-summary ask")
	f.StringVar(&o.gpgImport, "gpg-import", "", "the same as --gpg-keyring (ostree remote add's name for it)")
	f.StringVar(&o.srcEndpoint, "src-endpoint", "", "with an s3:// SRC: its S3-compatible server URL (default: AWS S3); credentials as for DEST")
	f.IntVar(&o.depth, "depth", 0, "with an http(s):// SRC: also mirror this many parents of each ref's commit")
}

func newSyncCommand() *cobra.Command {
	var opts syncOptions
	cmd := &cobra.Command{
		Use:   "sync SRC [DEST]",
		Short: "Publish SRC (an ostree archive repository, local or over HTTP(S), or a directory of release files) to DEST",
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

SRC may be http(s)://HOST/PATH/, an archive repository served over HTTP
(another mirror, or the primary): its summary is read once, and the run
publishes the refs it names and its very bytes (so its signature stays
valid), whatever the upstream publishes meanwhile. Each ref's commit (and
--depth parents) is walked upstream to every object it needs; only what
DEST lacks is fetched, and every object is checked against its checksum,
as ostree computes it, before it is uploaded. An object the upstream
lacks or serves corrupt stops the run before any ref, naming the ref.

Release files served over HTTP(S) are listed by the site: with --keys DIR
and --manifests SITE_URL, the manifests that SITE_URL/index.json lists are
read from the site and verified, and the files they name are fetched from
SRC, each checked against its signed size and sha256 before it is
uploaded, ahead of the manifest that names it.

One run at a time writes to a destination: a run takes its lease
(.mirror/lock: on S3 an object written with If-None-Match and renewed
with If-Match, in a directory an flock) before it lists anything, and a
second run refuses at once, naming the holder (exit 3). Holding it, a run
aborts the incomplete uploads and removes the temporary files that killed
runs left. Before it publishes any ref, it walks every ref to every object
the commit needs; a ref that is not whole stops the run there.`,
		Args: cli.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			limitMemory()
			return runSync(cmd.Context(), cmd, opts, args)
		},
	}
	opts.addFlags(cmd)
	return cmd
}

// isWeb reports whether s is an http(s):// URL.
func isWeb(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// openSource opens a local directory, or an ostree repository or a
// release tree served over HTTP(S) or in a bucket.
func openSource(ctx context.Context, src string, keys *trust.Keyring, opts syncOptions) (*mirror.Source, error) {
	web := isWeb(src)
	bucket := strings.HasPrefix(src, "s3://")
	remote := web || bucket
	if opts.gpgImport != "" {
		if opts.gpgKeyring != "" && opts.gpgKeyring != opts.gpgImport {
			return nil, cli.Usagef("sync: --gpg-keyring %s and --gpg-import %s: they are one flag under two names; give one", opts.gpgKeyring, opts.gpgImport)
		}
		opts.gpgKeyring = opts.gpgImport
	}
	switch {
	case isWeb(opts.manifests) && !web:
		return nil, cli.Usagef("sync: --manifests %s lists the manifests of a release tree served over http(s), and SRC %s is not one (a directory or a bucket lists its own; to gate an ostree repository's refs, give --manifests a directory)", opts.manifests, src)
	case isWeb(opts.manifests) && (len(opts.refs) > 0 || opts.depth != 0 || opts.gpgKeyring != ""):
		return nil, cli.Usagef("sync: --ref, --depth and --gpg-keyring are for an ostree repository, and --manifests %s makes SRC a release tree", opts.manifests)
	case isWeb(opts.manifests):
		ro := mirror.RemoteOptions{Jobs: min(opts.jobs, 32), Retry: retryPolicy()}
		return mirror.OpenReleaseHTTP(ctx, src, opts.manifests, keys, ro)
	case !remote && (len(opts.refs) > 0 || opts.depth != 0 || opts.gpgKeyring != ""):
		return nil, cli.Usagef("sync: --ref, --depth and --gpg-keyring are for an http(s):// or s3:// SRC, and %s is a local directory", src)
	case !bucket && opts.srcEndpoint != "":
		return nil, cli.Usagef("sync: --src-endpoint is for an s3:// SRC, and %s is not one", src)
	case opts.depth < 0:
		return nil, cli.Usagef("sync: --depth %d: want 0 (the commit alone) or more", opts.depth)
	case web && keys != nil && opts.manifests == "":
		return nil, cli.Usagef("sync: --keys names no manifests for %s: for release files served over http(s), add --manifests with the URL of the site whose index.json lists them; for an ostree repository, gate its refs with --manifests DIR", src)
	case !remote:
		return mirror.Open(ctx, src, keys)
	}
	for _, r := range opts.refs {
		if r == "" || strings.HasPrefix(r, "/") || strings.Contains(r, "..") {
			return nil, cli.Usagef("sync: --ref %q: not a ref name", r)
		}
	}
	ro := mirror.RemoteOptions{Refs: opts.refs, Depth: opts.depth, Jobs: min(opts.jobs, 32), Retry: retryPolicy()}
	if opts.gpgKeyring != "" {
		var err error
		if ro.Keyring, err = gpgsig.LoadKeyring(opts.gpgKeyring); err != nil {
			return nil, err
		}
	}
	if web {
		return mirror.OpenHTTP(ctx, src, ro)
	}
	st, err := s3.New(src, s3.Options{Endpoint: opts.srcEndpoint, MaxConns: min(opts.jobs, 64) * 2, Retry: retryPolicy()})
	if err != nil {
		return nil, err
	}
	repo, err := mirror.OpenStore(ctx, st, src, ro)
	if !errors.Is(err, fs.ErrNotExist) {
		return repo, err
	}
	// No ostree repository: a release tree, trusted only through its
	// signed manifests.
	if keys == nil {
		return nil, fmt.Errorf("%s: no ostree repository there (no config); a release tree is published only as its signed manifests vouch for it: give --keys", src)
	}
	return mirror.OpenReleaseStore(ctx, st, src, keys, ro)
}

// syncMemoryLimit is the Go heap a sync keeps to, unless GOMEMLIMIT says
// otherwise. A sync's live heap is small (the source's file list, the
// plan), but listing the destination decodes a thousand entries per page,
// a hundred pages and more for a large repository, and the collector
// would let that garbage grow to twice the live heap: a no-op resync of
// 100,000 objects peaked at 135 MB without the limit, 108 MB with it
// (the first sync: 115 MB). Past the limit the collector works harder
// rather than the process growing.
const syncMemoryLimit = 100 << 20

func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(syncMemoryLimit)
	}
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
	src, err := openSource(ctx, args[0], keys, opts)
	if err != nil {
		return err
	}
	if opts.manifests != "" && !isWeb(opts.manifests) {
		cat, err := catalog.Load(ctx, opts.manifests, keys)
		if err != nil {
			return err
		}
		if err := src.ApplyGate(mirror.NewGate(cat)); err != nil {
			return err
		}
	}
	src.WalkAll = opts.repair // a remote source lists every object, to be read back
	state, err := src.State()
	if err != nil {
		return err
	}
	trace := func(dest string) *mirror.Trace {
		h := holder()
		if !strings.Contains(dest, "://") {
			dest = "" // a local directory: the trace is public, this host's paths are not
		}
		return &mirror.Trace{Time: time.Now().UTC(), Tool: h.Tool, Host: h.Host, Destination: dest, Source: state}
	}
	out := cmd.OutOrStdout()
	// Each target is opened here and synced by the engine; one that
	// cannot be opened fails alone.
	outcomes := make([]mirror.Outcome, len(targets))
	names := make([]string, len(targets)) // each target's destination
	var dests []mirror.Destination
	var at []int // dests[k] is targets[at[k]]
	for i, t := range targets {
		so := opts.storeOptions
		so.endpoint, so.region = t.Endpoint, t.Region
		dest := t.Dest()
		if opts.config == "" {
			dest = args[1]
		}
		names[i] = dest
		d, err := openDest(ctx, dest, so, opts.dryRun || opts.noLock)
		if err != nil {
			outcomes[i] = mirror.Outcome{Name: t.Name, Err: err}
			continue
		}
		defer d.Close()
		var prog mirror.Progress
		if !opts.dryRun {
			mode := opts.progress
			if len(targets) > 1 {
				mode = "log" // bars of several targets would fight over the terminal
			}
			p := newProgress(mode, dest, cmd.ErrOrStderr())
			defer p.Close()
			prog = p
		}
		dests = append(dests, mirror.Destination{Name: t.Name, Store: d, Opts: mirror.SyncOptions{
			Dest: dest, Jobs: so.jobs, DryRun: opts.dryRun, NoLock: opts.noLock, Delete: del,
			Holder: holder(), Alive: lockfile.Alive, Retry: retryPolicy(), Progress: prog, Trace: trace(dest), Repair: opts.repair,
		}})
		at = append(at, i)
	}
	for k, o := range mirror.SyncAll(ctx, src, dests) {
		outcomes[at[k]] = o
	}
	reports := make([]namedReport, len(outcomes))
	var errs []error
	code := 0 // a failure anywhere outranks a held lease or a held ref
	for i, o := range outcomes {
		err := o.Err
		if opts.dryRun && o.Plan != nil {
			printPlan(out, names[i], o.Plan, del)
			if err == nil {
				err = planError(src)
			}
		}
		if err != nil && opts.config != "" {
			err = fmt.Errorf("target %s: %w", o.Name, err)
		}
		if c := exitCode(err); c == 1 || code == 0 {
			code = c
		}
		reports[i] = newNamedReport(o.Name, o.Report, err)
		errs = append(errs, err)
	}
	err = errors.Join(errs...)
	if code == exitLocked || code == exitHeldBack {
		err = &cli.ExitError{Code: code, Err: err}
	}
	return finishReport(out, opts, reports, err)
}

// The exit codes of outcomes a timer tells from failures.
const (
	// exitLocked: another run holds the destination; the next run
	// catches up.
	exitLocked = 3
	// exitHeldBack: everything was published but refs the ref gate held
	// back (a ref no signed, released build names); the trace says which.
	exitHeldBack = 4
)

// exitCode is what one target's outcome exits with.
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, store.ErrLocked):
		return exitLocked
	case errors.Is(err, mirror.ErrHeldBack):
		return exitHeldBack
	}
	return 1
}

// planError is what a dry run reports of a plan it could not carry out
// whole: refused releases, refs held back.
func planError(src *mirror.Source) error {
	if len(src.Refused) > 0 {
		return errors.Join(src.Refused...)
	}
	if len(src.HeldBack) > 0 {
		return mirror.HeldBackError(src.HeldBack)
	}
	return nil
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

// holder is this run, as its lease names it.
func holder() store.Holder {
	host, _ := os.Hostname()
	info, _ := debug.ReadBuildInfo()
	return store.Holder{Host: host, PID: os.Getpid(), Tool: "mirror " + cli.Version(info)}
}

func printPlan(w io.Writer, dest string, p *mirror.Plan, del *mirror.DeleteOptions) {
	n, b := p.Totals()
	fmt.Fprintf(w, "plan for %s (%s): upload %d files, %s; %d already there\n", dest, p.Source.Kind, n, bytesize.Format(b), p.Skipped)
	if p.Repaired > 0 {
		fmt.Fprintf(w, "  %d of them damaged at the destination, to publish again\n", p.Repaired)
	}
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
	for _, h := range p.Source.HeldBack {
		fmt.Fprintf(w, "  held back: %s\n", h.Reason)
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
		repaired := ""
		if r.Repaired > 0 {
			repaired = fmt.Sprintf("; %d were damaged at the destination and published again", r.Repaired)
		}
		copied := ""
		if r.Copied > 0 {
			copied = fmt.Sprintf(", %d of them (%s) copied by the server", r.Copied, bytesize.Format(r.CopiedBytes))
		}
		fmt.Fprintf(w, "%s: %s %d files (%s)%s in %.1fs; %d already there; %d deleted%s%s%s\n",
			r.Name, state, r.Files, bytesize.Format(r.Bytes), copied, r.Seconds, r.Skipped, r.Deleted, repaired, pending, cleaned)
	}
	return err
}
