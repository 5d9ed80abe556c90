// Package mirror publishes a source (an ostree repository or a directory of
// release files) to a store in phases, so that nothing a client can reach
// ever points at something not yet uploaded: objects before the commits
// that name them, commits before refs, refs before the summary, artifacts
// before the manifest that names them. It lists the destination once,
// compares by key and size (by content for mutable files), uploads what is
// missing, and deletes what the source no longer has only after the new
// summary is published.
package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/projectatomic/atomic-site/internal/ostree"
	"github.com/projectatomic/atomic-site/internal/store"
)

// Store is what the mirror needs of a destination.
type Store interface {
	// List calls fn for every object, streaming: memory stays bounded.
	// needSum (nil: everything) says below which keys and prefixes the
	// listing should carry content hashes: only mutable files need them,
	// and some stores pay for them per object.
	List(ctx context.Context, needSum func(keyOrPrefix string) bool, fn func(store.Object) error) error
	Put(ctx context.Context, u store.Upload) error
	Delete(ctx context.Context, key string) error
}

// Summer is a store whose listing may lack content hashes but which can
// tell one cheaply (a local directory).
type Summer interface {
	SHA256(ctx context.Context, key string) (string, error)
}

// File is one source file to publish.
type File struct {
	Rel     string // key below the destination prefix, slash-separated
	Path    string // local path
	Size    int64
	Phase   int
	Mutable bool
	SHA256  string // known for mutable files, and for verified images
	MD5     string // known for mutable files: a single-part ETag
	// Data, when set, is the content, held in memory (a remote source's
	// small files, read and checked when the source was opened).
	Data []byte
	// Fetch, when set, gets the content of a remote source's file at
	// upload time, checked against its name; Size is then -1 (unknown)
	// until it is fetched. Only immutable files are fetched so.
	Fetch func(ctx context.Context) (Fetched, error)
	// CopyFrom, when set, is the source's store, which holds the file at
	// Rel too (a release tree in a bucket): a destination on the same
	// server copies it server side (ServerCopier), checked against
	// SHA256 by the server, instead of fetching it through this process.
	CopyFrom any
}

// ServerCopier is a destination that copies a file from a source store on
// its own server without the bytes passing through this process, and
// publishes it only once the server vouches for its sha256 (store/s3). An
// error wrapping store.ErrNoServerCopy says it cannot: the file is
// fetched instead.
type ServerCopier interface {
	CopyChecked(ctx context.Context, src any, key string, u store.Upload) error
}

// Fetched is a remote file's content, checked: in memory, or spooled to a
// local file that Done removes.
type Fetched struct {
	Data []byte
	Path string
	Size int64
	Done func()
}

// content reads a source file whole: from memory, or from its path.
func (f *File) content() ([]byte, error) {
	if f.Data != nil {
		return f.Data, nil
	}
	if f.Path == "" {
		return nil, fmt.Errorf("%s: no content at hand", f.Rel)
	}
	return os.ReadFile(f.Path)
}

// Source is a snapshot of what to publish, in phases.
type Source struct {
	Dir    string   // where it was read from
	URL    string   // a remote source's URL, without credentials
	Kind   string   // "ostree" or "release files"
	Phases []string // phase names, in order
	Files  []File
	// Refused are releases that failed their checks: nothing of them is
	// uploaded, and the run fails after the rest is published.
	Refused []error
	// HeldBack are refs the ref gate did not let move: no ref and no
	// summary is published; everything else is, and the trace says why.
	HeldBack []HeldRef
	// Skip reports keys the source never publishes (tmp/, state/, locks);
	// they are deleted from the destination with --delete.
	Skip func(rel string) bool
	// DeleteRank orders deletions: higher ranks go first (summary before
	// refs before objects), the reverse of publishing.
	DeleteRank func(rel string) int
	// NeedSum says below which keys and prefixes mutable files may be;
	// nil means anywhere.
	NeedSum func(keyOrPrefix string) bool
	// Protected keys exist at the destination for files the source still
	// has but held back (a refused release): --delete leaves them alone.
	Protected map[string]bool
	// Recognized is set for an ostree repository, and for a directory
	// with at least one <stream>/<release>.json: a source that is neither
	// is never allowed to delete.
	Recognized bool
	// FirstPointer, when above 0, is the first phase whose files name
	// what earlier phases uploaded (refs, manifests): before it the run
	// reads its lease back.
	FirstPointer int
	// Commits is set for an ostree repository: before FirstPointer,
	// every ref the source has, or its summary names, is walked to check
	// that the destination holds every object it needs.
	Commits bool
	// FirstSigned, when above 0, is the first of the last phases, whose
	// files are signed in a second file (summary, summary.sig): they are
	// all read before the first is sent, then sent back to back.
	FirstSigned int
	// Resolve, when set, lists the files beyond Files that a plan for
	// one destination needs, once that destination is listed: a remote
	// source walks its refs to the objects the destination lacks (has
	// reports an object the destination holds; with full, every object
	// is listed, as --delete and --repair need). It publishes nothing,
	// and leaves the Source as it was: several destinations plan at once.
	Resolve func(ctx context.Context, has func(key string) bool, full bool) ([]File, error)
	// WalkAll makes Resolve list every object whatever the destination
	// holds (--repair).
	WalkAll bool
	// Upstream is a remote source's own trace, when it is a mirror, and
	// UpstreamRead when it was read: the trace chains them.
	Upstream     json.RawMessage
	UpstreamRead time.Time
}

// Plan is what a sync will do.
type Plan struct {
	Source  *Source
	Uploads [][]File // per phase
	// Delete is what this run deletes, in deletion order: keys the
	// source lacks that have waited out the grace period.
	Delete []string
	// Pending is every key the source lacks, with when it was first seen
	// missing; written to the destination before anything is deleted.
	Pending *Pending
	Skipped int // files already at the destination
	Listed  int // objects listed at the destination, the mirror's own state aside
	// Repaired counts files at the destination that --repair found
	// damaged and queued again.
	Repaired int

	all []File // the source's files, with those Resolve added

	files     map[string]*File    // the source's files by key
	elsewhere map[string]struct{} // objects at the destination the source lacks

	extra        []string // keys the source lacks, in deletion order
	hasPending   bool     // the destination holds a pending list
	writePending bool     // the pending list must be written before deleting
}

// PhaseTotals counts files and bytes in a phase of the plan.
func (p *Plan) PhaseTotals(i int) (files int, bytes int64) {
	for _, f := range p.Uploads[i] {
		files++
		bytes += max(f.Size, 0) // a remote object's size is known once fetched
	}
	return files, bytes
}

// Totals counts files and bytes to upload.
func (p *Plan) Totals() (files int, bytes int64) {
	for i := range p.Uploads {
		n, b := p.PhaseTotals(i)
		files += n
		bytes += b
	}
	return files, bytes
}

// MakePlan lists the destination once and decides what to upload and,
// with del, what to delete. The guards of del may refuse the run (an
// error wrapping ErrRefused): then nothing must be uploaded or deleted.
func MakePlan(ctx context.Context, src *Source, dst Store, del *DeleteOptions) (*Plan, error) {
	start := time.Now()
	want := make(map[string]*File, len(src.Files))
	for i := range src.Files {
		want[src.Files[i].Rel] = &src.Files[i]
	}
	plan := &Plan{Source: src, Uploads: make([][]File, len(src.Phases)), files: want, elsewhere: map[string]struct{}{}}
	done := make(map[string]bool, len(src.Files))
	var extra, links []string
	var unsure []*File // mutable files whose listing says nothing of content
	mutable := map[string]store.Object{}
	err := dst.List(ctx, src.NeedSum, func(o store.Object) error {
		if strings.HasPrefix(o.Key, store.StateDir) {
			plan.hasPending = plan.hasPending || o.Key == PendingKey
			return nil
		}
		plan.Listed++
		if o.Symlink {
			links = append(links, o.Key) // never followed, replaced or deleted
			return nil
		}
		f, ok := want[o.Key]
		if !ok && src.Commits && (strings.HasPrefix(o.Key, "objects/") || strings.HasPrefix(o.Key, "deltas/")) {
			plan.elsewhere[o.Key] = struct{}{}
		}
		if !ok && src.Resolve != nil && ostree.Classify(o.Key).Mutable {
			// A mutable file the source may list once resolved (commit
			// metadata, a delta index): compared then.
			mutable[o.Key] = o
		}
		if !ok {
			if del != nil && !src.Protected[o.Key] {
				extra = append(extra, o.Key)
			}
			return nil
		}
		if compare(o, f, done) {
			unsure = append(unsure, f)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list destination: %w", err)
	}
	slog.Debug("listed destination", "objects", plan.Listed, "took", time.Since(start))
	files := src.Files
	if src.Resolve != nil {
		if files, extra, err = resolve(ctx, src, plan, done, extra, del != nil || src.WalkAll); err != nil {
			return nil, err
		}
		for i := len(src.Files); i < len(files); i++ {
			if o, ok := mutable[files[i].Rel]; ok && compare(o, &files[i], done) {
				unsure = append(unsure, &files[i])
			}
		}
	}
	if err := checkLinks(src, links); err != nil {
		return nil, err
	}
	if s, ok := dst.(Summer); ok {
		for _, f := range unsure {
			sum, err := s.SHA256(ctx, f.Rel)
			if err != nil {
				return nil, err
			}
			done[f.Rel] = sum == f.SHA256
		}
	}
	for _, f := range files {
		if done[f.Rel] {
			plan.Skipped++
			continue
		}
		plan.Uploads[f.Phase] = append(plan.Uploads[f.Phase], f)
	}
	plan.all = files
	for i := range plan.Uploads {
		// Big files first, so that the tail of a phase is not one
		// large file on its own.
		slices.SortStableFunc(plan.Uploads[i], func(a, b File) int { return compareInt64(b.Size, a.Size) })
	}
	rank := src.DeleteRank
	if rank == nil {
		rank = func(string) int { return 0 }
	}
	sort.Slice(extra, func(i, j int) bool {
		if ri, rj := rank(extra[i]), rank(extra[j]); ri != rj {
			return ri > rj
		}
		return extra[i] < extra[j]
	})
	plan.extra = extra
	if del != nil {
		if err := planDeletes(ctx, plan, dst, *del); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

// compare marks f done if the destination's o is the same, and reports
// whether the listing cannot tell (a mutable file listed without a
// content hash).
func compare(o store.Object, f *File, done map[string]bool) (unsure bool) {
	if f.Size >= 0 && o.Size != f.Size {
		return false
	}
	switch {
	case !f.Mutable:
		done[o.Key] = true
	case o.SHA256 != "":
		done[o.Key] = o.SHA256 == f.SHA256
	case isMD5(o.ETag):
		done[o.Key] = strings.Trim(o.ETag, `"`) == f.MD5
	default:
		return true
	}
	return false
}

// resolve lets a remote source list its objects once the destination's
// are known, and returns the plan's files (the source's and those) and
// what is left to delete: an object listed at the destination is done,
// not elsewhere, nor a key to delete.
func resolve(ctx context.Context, src *Source, plan *Plan, done map[string]bool, extra []string, full bool) ([]File, []string, error) {
	has := func(key string) bool { _, ok := plan.elsewhere[key]; return ok }
	more, err := src.Resolve(ctx, has, full)
	if err != nil {
		return nil, nil, err
	}
	files := slices.Concat(src.Files, more)
	for i := len(src.Files); i < len(files); i++ {
		f := &files[i]
		if _, ok := plan.files[f.Rel]; ok {
			continue
		}
		plan.files[f.Rel] = f
		if _, ok := plan.elsewhere[f.Rel]; ok && !f.Mutable {
			delete(plan.elsewhere, f.Rel)
			done[f.Rel] = true
		}
	}
	kept := extra[:0]
	for _, key := range extra {
		if _, ok := plan.files[key]; !ok {
			kept = append(kept, key)
		}
	}
	return files, kept, nil
}

// checkLinks refuses a run that would write at or below a symbolic link of
// the destination, naming it.
func checkLinks(src *Source, links []string) error {
	if len(links) == 0 {
		return nil
	}
	set := map[string]bool{}
	for _, l := range links {
		set[l] = true
	}
	for _, f := range src.Files {
		for p := f.Rel; p != "." && p != ""; p = path.Dir(p) {
			if set[p] {
				return fmt.Errorf("destination: %s is a symbolic link where the mirror would write %s: the mirror writes only real files and directories, and never follows, replaces or removes a link it did not create (%w)",
					p, f.Rel, store.ErrPermanent)
			}
		}
	}
	return nil
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func isMD5(etag string) bool {
	e := strings.Trim(etag, `"`)
	if len(e) != 32 {
		return false
	}
	for _, c := range e {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Progress hears how a sync goes; the command shows it as bars or logs.
type Progress interface {
	PhaseStart(name string, files int, bytes int64)
	Uploaded(f File)
	PhaseDone(name string)
}

// Options tune Execute.
type Options struct {
	Jobs     int
	Progress Progress
	// Headers gives each file's Content-Type and Cache-Control.
	Headers func(f File) (contentType, cacheControl string)
	// Trace, when set, is written to TraceKey after a run that completed,
	// last of all.
	Trace *Trace
	// Pacer, when set, chooses how many uploads run at once (at most its
	// Max); without one, Jobs uploads run at once.
	Pacer *Pacer
	// Lease, when set, is read back before the first phase that names
	// what earlier phases uploaded, and before deleting: a run that lost
	// its destination's lease stops there.
	Lease store.Lease
	// Cleaned is what the run removed of earlier runs' leftovers, for the
	// report.
	Cleaned Cleaned
}

// Report says what a sync did, for people and for --json.
type Report struct {
	Source   string        `json:"source"`
	Phases   []PhaseReport `json:"phases"`
	Skipped  int           `json:"skipped"`
	Repaired int           `json:"repaired"` // damaged at the destination, published again (--repair)
	Deleted  int           `json:"deleted"`
	Pending  int           `json:"pending_deletes"`
	Files    int           `json:"uploaded_files"`
	Bytes    int64         `json:"uploaded_bytes"`
	// Copied and CopiedBytes are what of the uploads the destination's
	// server copied from the source's, checked, without the bytes
	// passing through this process.
	Copied      int      `json:"server_copied_files"`
	CopiedBytes int64    `json:"server_copied_bytes"`
	Seconds     float64  `json:"seconds"`
	Errors      []string `json:"errors,omitempty"`
	Complete    bool     `json:"complete"`
	// HeldBack are the refs the ref gate held back, and why.
	HeldBack []HeldRef `json:"held_back,omitempty"`
	Cleaned
	// SignedGap is the time between the first and the last upload of the
	// files signed in a second file (summary, summary.sig).
	SignedGap float64 `json:"signed_pair_gap_seconds,omitempty"`
}

// PhaseReport is one phase's share of a Report.
type PhaseReport struct {
	Name  string `json:"name"`
	Files int    `json:"files"`
	Bytes int64  `json:"bytes"`
}

// ErrPhase is wrapped by the error of a sync that stopped in a phase.
var ErrPhase = errors.New("upload failed")

// Execute runs the plan: each phase completes before the next starts; a
// failure stops the run before the next phase. Deletions happen only after
// every phase succeeded and no release was refused, and only after the
// pending list naming them is written, so that a run killed while deleting
// leaves a list that still covers what is missing. The trace goes last.
func Execute(ctx context.Context, plan *Plan, dst Store, opts Options) (*Report, error) {
	start := time.Now()
	jobs := max(opts.Jobs, 1)
	pacer := opts.Pacer
	if pacer == nil {
		pacer = FixedPacer(jobs)
	}
	rep := &Report{Source: plan.Source.Kind, Skipped: plan.Skipped, Repaired: plan.Repaired, Cleaned: opts.Cleaned, HeldBack: plan.Source.HeldBack}
	held := func() error {
		if opts.Lease == nil {
			return nil
		}
		return opts.Lease.Check(ctx)
	}
	finish := func(err error) (*Report, error) {
		rep.Seconds = time.Since(start).Seconds()
		if err != nil {
			rep.Errors = append(rep.Errors, strings.Split(err.Error(), "\n")...)
		}
		rep.Complete = err == nil
		return rep, err
	}
	signed := len(plan.Uploads)
	if plan.Source.FirstSigned > 0 {
		signed = plan.Source.FirstSigned
	}
	for i, files := range plan.Uploads {
		name := plan.Source.Phases[i]
		if i == plan.Source.FirstPointer && i > 0 && plan.publishesPointers() {
			// What clients follow is about to change: this run must
			// still hold the destination, and every ref be whole.
			if err := held(); err != nil {
				return finish(err)
			}
			if plan.Source.Commits {
				if err := checkWhole(ctx, plan, dst, jobs); err != nil {
					return finish(err)
				}
			}
		}
		if i == signed {
			gap, err := publishSigned(ctx, plan, dst, opts, rep)
			if err != nil {
				return finish(err)
			}
			rep.SignedGap = gap.Seconds()
			break
		}
		n, b := plan.PhaseTotals(i)
		rep.Phases = append(rep.Phases, PhaseReport{Name: name, Files: n, Bytes: b})
		if n == 0 {
			continue
		}
		if opts.Progress != nil {
			opts.Progress.PhaseStart(name, n, b)
		}
		// What went up counts even when the phase stops part way (a lost
		// lease, a failed upload): the report says what was published.
		var sent phaseSent
		err := runPhase(ctx, files, dst, pacer, opts, &sent)
		rep.Files += int(sent.files.Load())
		rep.Bytes += sent.bytes.Load()
		rep.Copied += int(sent.copied.Load())
		rep.CopiedBytes += sent.copiedBytes.Load()
		if err != nil {
			return finish(fmt.Errorf("%s: %w", name, err))
		}
		if opts.Progress != nil {
			opts.Progress.PhaseDone(name)
		}
		slog.Debug("phase published", "phase", name, "files", n, "bytes", b)
	}
	if len(plan.Source.Refused) > 0 {
		return finish(errors.Join(plan.Source.Refused...))
	}
	if back := plan.Source.HeldBack; len(back) > 0 {
		// Everything else is published: the trace says so, and what was
		// held back. Nothing is deleted while the destination's refs may
		// still name what the source no longer has.
		if opts.Trace != nil {
			opts.Trace.HeldBack = back
			if err := writeTrace(ctx, dst, opts); err != nil {
				return finish(err)
			}
		}
		rep.Complete = true
		rep.Seconds = time.Since(start).Seconds()
		err := HeldBackError(back)
		rep.Errors = append(rep.Errors, strings.Split(err.Error(), "\n")...)
		return rep, err
	}
	if plan.writePending || len(plan.Delete) > 0 {
		if err := held(); err != nil {
			return finish(err)
		}
	}
	if plan.writePending {
		if err := putJSON(ctx, dst, PendingKey, plan.Pending); err != nil {
			return finish(err)
		}
	}
	for _, key := range plan.Delete {
		if err := dst.Delete(ctx, key); err != nil {
			return finish(fmt.Errorf("delete %s: %w", key, err))
		}
		rep.Deleted++
	}
	if plan.Pending != nil {
		left := plan.Pending.without(plan.Delete)
		rep.Pending = len(left.Keys)
		switch {
		case len(left.Keys) == 0 && (plan.hasPending || plan.writePending):
			if err := dst.Delete(ctx, PendingKey); err != nil {
				return finish(fmt.Errorf("delete %s: %w", PendingKey, err))
			}
		case len(left.Keys) > 0 && len(plan.Delete) > 0:
			if err := putJSON(ctx, dst, PendingKey, left); err != nil {
				return finish(err)
			}
		}
	}
	if opts.Trace != nil {
		if err := writeTrace(ctx, dst, opts); err != nil {
			return finish(err)
		}
	}
	return finish(nil)
}

// writeTrace writes the trace of a run that is done. The lease goes as the
// trace is written, one round trip for both (a run that starts meanwhile
// finds nothing of this one's left to do).
func writeTrace(ctx context.Context, dst Store, opts Options) error {
	var released error
	var wg sync.WaitGroup
	if opts.Lease != nil {
		wg.Go(func() { released = opts.Lease.Release(context.WithoutCancel(ctx)) })
	}
	// Releasing ends the run's context: the trace, the last word of a run
	// that is done, is written without it.
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	err := putJSON(tctx, dst, TraceKey, opts.Trace)
	cancel()
	wg.Wait()
	if released != nil {
		slog.Warn("could not remove the lease; it expires by itself", "err", released)
	}
	return err
}

// putJSON writes v as one whole object: a store's Put replaces an object
// whole (S3), or by rename (a directory), so a reader, or a run killed
// half way, sees the old version or the new one.
func putJSON(ctx context.Context, dst Store, key string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	sum := sha256.Sum256(data)
	err = dst.Put(ctx, store.Upload{Key: key, Data: data, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
		ContentType: "application/json", CacheControl: CacheMutable})
	if err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// publishesPointers reports whether the plan sends any file of the phases
// that name commits (refs, summary): only then must the refs be whole
// first.
func (p *Plan) publishesPointers() bool {
	for i := p.Source.FirstPointer; i < len(p.Uploads); i++ {
		if len(p.Uploads[i]) > 0 {
			return true
		}
	}
	return false
}

// upload is how f goes up, with data when it was read before.
func (opts Options) upload(f File, data []byte) store.Upload {
	if data == nil {
		data = f.Data
	}
	u := store.Upload{Key: f.Rel, Path: f.Path, Size: f.Size, SHA256: f.SHA256, Data: data}
	if opts.Headers != nil {
		u.ContentType, u.CacheControl = opts.Headers(f)
	}
	return u
}

// put uploads f, fetching it first if it is remote: the fetch checks it,
// so nothing unchecked reaches the destination. A file the destination
// can copy from the source's store on its own server is copied there, the
// server's sha256 of it checked, and never passes through this process.
// It returns the size published, and whether it was copied so.
func put(ctx context.Context, dst Store, f File, opts Options) (size int64, copied bool, err error) {
	if c, ok := dst.(ServerCopier); ok && f.CopyFrom != nil && f.SHA256 != "" && f.Size >= 0 {
		err := c.CopyChecked(ctx, f.CopyFrom, f.Rel, opts.upload(f, nil))
		if !errors.Is(err, store.ErrNoServerCopy) {
			return f.Size, err == nil, err
		}
		slog.Debug("no checked server-side copy: fetching", "key", f.Rel, "why", err)
	}
	if f.Fetch == nil {
		return f.Size, false, dst.Put(ctx, opts.upload(f, nil))
	}
	b, err := f.Fetch(ctx)
	if err != nil {
		return 0, false, err
	}
	if b.Done != nil {
		defer b.Done()
	}
	u := opts.upload(f, b.Data)
	u.Path, u.Size = b.Path, b.Size
	return b.Size, false, dst.Put(ctx, u)
}

// throttleKey carries the pacer of a run to the fetches of a remote
// source: an upstream that answers 429 or 503 slows the run, as the
// destination does.
type throttleKey struct{}

func withThrottle(ctx context.Context, p *Pacer) context.Context {
	if p == nil {
		return ctx
	}
	return context.WithValue(ctx, throttleKey{}, p)
}

// throttled tells the run's pacer, if any, that a request was throttled.
func throttled(ctx context.Context) {
	if p, ok := ctx.Value(throttleKey{}).(*Pacer); ok {
		p.Throttled()
	}
}

// phaseSent is what a phase published: files and bytes, and of them
// what the destination's server copied from the source's.
type phaseSent struct {
	files, copied      atomic.Int64
	bytes, copiedBytes atomic.Int64
}

// runPhase uploads files, as many at once as the pacer allows. After the
// first failure no new upload starts; those under way finish, and every
// failure is reported.
func runPhase(ctx context.Context, files []File, dst Store, pacer *Pacer, opts Options, sent *phaseSent) error {
	var (
		next   atomic.Int64
		failed atomic.Bool
		mu     sync.Mutex
		errs   []error
		wg     sync.WaitGroup
	)
	ctx = withThrottle(ctx, pacer) // a throttled fetch slows the phase too
	steerCtx, stop := context.WithCancel(ctx)
	defer stop()
	go pacer.steer(steerCtx)
	for range min(pacer.Max, len(files)) {
		wg.Go(func() {
			for !failed.Load() {
				if !pacer.acquire(ctx) {
					return
				}
				i := int(next.Add(1) - 1)
				if i >= len(files) || failed.Load() {
					pacer.cancel()
					return
				}
				f := files[i]
				size, copied, err := put(ctx, dst, f, opts)
				pacer.release(max(size, 0))
				if err != nil {
					failed.Store(true)
					mu.Lock()
					errs = append(errs, fmt.Errorf("%w: %s: %w", ErrPhase, f.Rel, err))
					mu.Unlock()
					continue
				}
				sent.files.Add(1)
				sent.bytes.Add(size)
				if copied {
					sent.copied.Add(1)
					sent.copiedBytes.Add(size)
				}
				if opts.Progress != nil {
					f.Size = size
					opts.Progress.Uploaded(f)
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil && len(errs) == 0 {
		return err
	}
	return errors.Join(errs...)
}
