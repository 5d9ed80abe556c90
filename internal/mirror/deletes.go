package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/projectatomic/atomic-site/internal/store"
)

// PendingKey is where the keys waiting out their grace period are kept.
const PendingKey = store.StateDir + "pending-deletes.json"

// ErrRefused marks a run refused by a guard before it changed anything.
var ErrRefused = errors.New("refused")

// Limit is the most a run may delete: a count, or a share of the
// destination's objects.
type Limit struct {
	N       int
	Percent float64 // when > 0, the limit is this share
}

// ParseLimit reads --max-delete: "N" or "P%".
func ParseLimit(s string) (Limit, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f <= 0 || f > 100 || math.IsNaN(f) {
			return Limit{}, fmt.Errorf("%q: want a count like 500 or a share like 10%%, above 0%% and at most 100%%", s)
		}
		return Limit{Percent: f}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return Limit{}, fmt.Errorf("%q: want a count like 500 or a share like 10%%", s)
	}
	return Limit{N: n}, nil
}

func (l Limit) String() string {
	if l.Percent > 0 {
		return strconv.FormatFloat(l.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(l.N)
}

// Max is the most the limit allows of total objects.
func (l Limit) Max(total int) int {
	if l.Percent > 0 {
		return int(math.Floor(float64(total) * l.Percent / 100))
	}
	return l.N
}

// DeleteOptions guard and pace deletion.
type DeleteOptions struct {
	// Max is --max-delete.
	Max Limit
	// Grace is how long a key must stay missing from the source before it
	// is deleted: longer than any client may hold an old summary.
	Grace time.Duration
	Now   time.Time
}

// Pending is the list of keys the source no longer has, each with when a
// run first saw it missing.
type Pending struct {
	Version int                  `json:"version"`
	Keys    map[string]time.Time `json:"keys"`
}

// hasRefs reports whether an ostree source has a ref to publish, or
// holds one back.
func (s *Source) hasRefs() bool {
	for _, f := range s.Files {
		if strings.HasPrefix(f.Rel, "refs/") {
			return true
		}
	}
	for k := range s.Protected {
		if strings.HasPrefix(k, "refs/") {
			return true
		}
	}
	return len(s.HeldBack) > 0
}

// planDeletes applies the guards to what the source lacks, then decides,
// with the pending list of earlier runs, what this run deletes (Delete,
// in deletion order) and what waits (Pending). A guard that fails refuses
// the whole run: nothing is uploaded or deleted.
func planDeletes(ctx context.Context, plan *Plan, dst Store, opts DeleteOptions) error {
	src := plan.Source
	if len(plan.extra) > 0 {
		what := fmt.Sprintf("it would delete %d of the %d objects at the destination", len(plan.extra), plan.Listed)
		switch {
		case len(src.Files) == 0 && len(src.Protected) == 0:
			return fmt.Errorf("%w: the source is empty, and %s; check the source path (is it mounted?)", ErrRefused, what)
		case !src.Recognized:
			return fmt.Errorf("%w: the source is neither an ostree repository nor a release directory (no <stream>/<release>.json), and %s; check the source path", ErrRefused, what)
		case src.Kind == "ostree" && !src.hasRefs():
			return fmt.Errorf("%w: the source is an ostree repository with no refs, and %s; an empty repository is never mirrored over a full one: check the source path and that its refs are there", ErrRefused, what)
		case len(plan.extra) > opts.Max.Max(plan.Listed):
			// No number to copy: a value that lets this run through may
			// be one that empties the mirror.
			return fmt.Errorf("%w: %s, more than --max-delete %s allows; check that the source is the repository this mirror follows (mirror sync --dry-run lists the deletions)", ErrRefused, what, opts.Max)
		}
	}
	pending, err := readPending(ctx, dst, plan.hasPending)
	if err != nil {
		return err
	}
	next := &Pending{Version: 1, Keys: map[string]time.Time{}}
	var due []string
	for _, k := range plan.extra {
		first, ok := pending.Keys[k]
		if !ok || first.After(opts.Now) {
			first = opts.Now
		}
		if opts.Now.Sub(first) >= opts.Grace {
			due = append(due, k)
		}
		// Until it is gone, a key stays listed: a run killed while
		// deleting leaves the list a superset of what is missing.
		next.Keys[k] = first.UTC()
	}
	plan.Delete = due
	plan.Pending = next
	// With no grace and no list yet, deletion is immediate and needs no
	// list; otherwise the list is written before anything is deleted,
	// unless it already says exactly this.
	plan.writePending = len(next.Keys) > 0 && (opts.Grace > 0 || plan.hasPending) &&
		!maps.EqualFunc(pending.Keys, next.Keys, time.Time.Equal)
	return nil
}

// readPending reads the pending list; none yet is an empty list.
func readPending(ctx context.Context, dst Store, exists bool) (*Pending, error) {
	p := &Pending{Version: 1, Keys: map[string]time.Time{}}
	if !exists {
		return p, nil
	}
	o, ok := dst.(Opener)
	if !ok {
		return nil, fmt.Errorf("%s: the destination cannot be read", PendingKey)
	}
	r, err := o.Open(ctx, PendingKey)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", PendingKey, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", PendingKey, err)
	}
	if err := json.Unmarshal(data, p); err != nil || p.Version != 1 {
		return nil, fmt.Errorf("%s: not a pending-deletes list (version 1): %v; remove it to start the grace period afresh", PendingKey, err)
	}
	if p.Keys == nil {
		p.Keys = map[string]time.Time{}
	}
	return p, nil
}

// without returns the list less the keys deleted.
func (p *Pending) without(deleted []string) *Pending {
	next := &Pending{Version: 1, Keys: maps.Clone(p.Keys)}
	for _, k := range deleted {
		delete(next.Keys, k)
	}
	return next
}

// Sorted lists the keys, oldest first, then by name.
func (p *Pending) Sorted() []string {
	keys := slices.Collect(maps.Keys(p.Keys))
	slices.SortFunc(keys, func(a, b string) int {
		if c := p.Keys[a].Compare(p.Keys[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return keys
}
