package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/projectatomic/atomic-site/internal/ostree"
)

// ErrNotWhole is wrapped by the error of a run that found a ref whose
// commit is not whole: its refs and summary are not published.
var ErrNotWhole = errors.New("not whole")

// planObjects is what a destination holds once the phases before the refs
// are done: what it held, plus what the source has (all of it uploaded or
// already there by then). Metadata objects are read from the source where
// it has them, else from the destination.
type planObjects struct {
	plan *Plan
	dst  Store
}

func (o planObjects) Has(key string) bool {
	if _, ok := o.plan.files[key]; ok {
		return true
	}
	_, ok := o.plan.elsewhere[key]
	return ok
}

func (o planObjects) Read(ctx context.Context, key string) ([]byte, error) {
	if f, ok := o.plan.files[key]; ok {
		return f.content()
	}
	r, ok := o.dst.(Opener)
	if !ok {
		return nil, fmt.Errorf("%s: at the destination only, which cannot be read back", key)
	}
	rc, err := r.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, maxSummary))
}

// checkWhole walks every ref of the source, and every ref its summary
// names, to every object it needs. A gap stops the run before any ref or
// the summary is published.
func checkWhole(ctx context.Context, plan *Plan, dst Store, jobs int) error {
	start := time.Now()
	st, err := plan.Source.State()
	if err != nil {
		return err
	}
	refs := st.Refs
	if refs == nil {
		refs = map[string]string{}
	}
	if f, ok := plan.files["summary"]; ok {
		data, err := f.content()
		if err != nil {
			return err
		}
		named, err := ostree.ParseSummary(data)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Rel, err)
		}
		for name, sum := range named {
			if cur, ok := refs[name]; ok && cur != sum {
				name += " (as the summary names it)"
			}
			refs[name] = sum
		}
	}
	gaps, err := ostree.Walk(ctx, refs, planObjects{plan, dst}, jobs)
	if err != nil {
		return err
	}
	slog.Debug("walked refs", "refs", len(refs), "gaps", len(gaps), "took", time.Since(start))
	if len(gaps) == 0 {
		return nil
	}
	g := gaps[0]
	more := ""
	if len(gaps) > 1 {
		more = fmt.Sprintf(" (and %d more)", len(gaps)-1)
	}
	return fmt.Errorf("ref %s is %w: %s is %s%s; no ref and no summary published", g.Ref, ErrNotWhole, g.Key, g.Reason, more)
}

// publishSigned sends the files of the last phases (summary, summary.sig,
// summary.idx, summary.idx.sig): all are read, and checked to be what was
// planned, before the first is sent, then sent one after the other with
// nothing in between, so that the window in which a client can fetch a
// summary and a signature that do not match is as short as two requests.
// It returns the time from the first send to the end of the last.
func publishSigned(ctx context.Context, plan *Plan, dst Store, opts Options, rep *Report) (time.Duration, error) {
	type item struct {
		f    File
		data []byte
	}
	var items []item
	for i := plan.Source.FirstSigned; i < len(plan.Uploads); i++ {
		n, b := plan.PhaseTotals(i)
		rep.Phases = append(rep.Phases, PhaseReport{Name: plan.Source.Phases[i], Files: n, Bytes: b})
		for _, f := range plan.Uploads[i] {
			data, err := f.content()
			if err != nil {
				return 0, err
			}
			sum := sha256.Sum256(data)
			if f.SHA256 != "" && hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(data)) != f.Size {
				return 0, fmt.Errorf("%s changed since this run read it (was the summary regenerated meanwhile?); nothing of the summary published, run again", f.Path)
			}
			if data == nil {
				data = []byte{} // nil would mean: read Path
			}
			items = append(items, item{f, data})
		}
	}
	if len(items) == 0 {
		return 0, nil
	}
	start := time.Now()
	for _, it := range items {
		if err := dst.Put(ctx, opts.upload(it.f, it.data)); err != nil {
			return 0, fmt.Errorf("%w: %s: %w", ErrPhase, it.f.Rel, err)
		}
		if opts.Progress != nil {
			opts.Progress.Uploaded(it.f)
		}
		rep.Files++
		rep.Bytes += it.f.Size
	}
	gap := time.Since(start)
	slog.Info("published the signed files back to back", "files", len(items), "gap", gap.Round(time.Microsecond))
	return gap, nil
}
