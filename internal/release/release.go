// Package release decides, per stream, what the site offers: the current
// build, whether it is stale, which builds were revoked and what replaces
// them. Its functions are pure: the verified catalog and "now" go in, the
// state comes out.
package release

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/projectatomic/atomic-site/internal/catalog"
)

// DefaultCadence is how often a stream is expected to ship a good build.
const DefaultCadence = 14 * 24 * time.Hour

// Errors the state can fail with, for errors.Is.
var (
	ErrConflict     = errors.New("conflict")
	ErrUnknownBuild = errors.New("revocation of a build that has no manifest")
	// ErrPromotion marks a promoted build whose candidate is missing or
	// is not the exact file that was promoted.
	ErrPromotion = errors.New("promoted-from does not match a verified candidate")
)

// Build is one build of a stream with what the state makes of it.
type Build struct {
	*catalog.Build
	Revocation *catalog.Revocation // nil unless withdrawn
	// ReplacedBy is, for a revoked build, what the stream offered instead
	// when it was withdrawn; nil when nothing was left to offer. It is
	// fixed then, so that newer builds never change an old build's page:
	// what the stream offers now is on the stream's own page.
	ReplacedBy *Build
}

// Revoked reports whether the build was withdrawn.
func (b *Build) Revoked() bool { return b.Revocation != nil }

// Offerable reports whether the build may be offered for download.
func (b *Build) Offerable() bool { return !b.Failed() && !b.Revoked() }

// ReleasedAt is when the build became its stream's release: when it was
// promoted, for a build promoted from a candidate stream, else its build
// date. Staleness is judged from it.
func (b *Build) ReleasedAt() time.Time {
	if p := b.PromotedFrom; p != nil {
		return p.PromotedAt
	}
	return b.Date
}

// Stream is the state of one stream.
type Stream struct {
	Name    string
	Cadence time.Duration
	Builds  []*Build // newest first
	// Current is the newest released build that is not revoked; nil when
	// the stream has none (no builds yet, only failures, all revoked).
	Current *Build
	// Stale is true when Current is older than Cadence at Now; StaleSince
	// is when it became so.
	Stale      bool
	StaleSince time.Time
	// Now is the moment the state is judged at.
	Now time.Time
	// Failure is the newest failed build that came after Current (any,
	// when there is no Current): its tracker is the bug to link. Older
	// failures were fixed by the build that followed them. When Current
	// was promoted from a candidate stream, failures are looked for there:
	// that is where the builds that did not make it are.
	Failure *Build
	// Withdrawn are the revoked released builds newer than Current, newest
	// first: the builds this stream used to offer.
	Withdrawn []*Build
	// For a stream whose current build was promoted from a candidate
	// stream (a release stream): that stream's name, and NextCandidate,
	// the candidate a promotion would pick now (see Candidates), if any.
	CandidateStream string
	NextCandidate   *Build
}

// State is every stream, in name order, at one moment.
type State struct {
	Now     time.Time
	Streams []*Stream
	// Example is set when a build was signed with the example history's
	// key: the site says so on every page.
	Example bool
}

// Stream returns the named stream, or nil.
func (s *State) Stream(name string) *Stream {
	for _, st := range s.Streams {
		if st.Name == name {
			return st
		}
	}
	return nil
}

// DefaultSkew is how far in the future a signed date may be, for clocks
// that disagree a little.
const DefaultSkew = 5 * time.Minute

// ErrFuture marks a build, revocation or promotion dated after now.
var ErrFuture = errors.New("dated in the future")

// Options say how to judge the catalog.
type Options struct {
	Now time.Time
	// Skew is how far after Now a date may be (zero: DefaultSkew).
	Skew time.Duration
	// Cadence gives each stream's cadence; nil means DefaultCadence.
	Cadence func(stream string) time.Duration
	// Streams are shown even when they have no builds yet.
	Streams []string
}

// Compute works out the state of every stream in cat. Conflicting files
// and revocations of unknown builds are errors naming the files: the state
// is never a silent pick between two signed claims.
func Compute(cat *catalog.Catalog, opts Options) (*State, error) {
	cadence := opts.Cadence
	if cadence == nil {
		cadence = func(string) time.Duration { return DefaultCadence }
	}
	now := opts.Now
	type key struct{ stream, release string }
	builds := map[key]*Build{}
	streams := map[string]*Stream{}
	for _, name := range opts.Streams {
		streams[name] = &Stream{Name: name, Cadence: cadence(name)}
	}
	var errs []error
	skew := opts.Skew
	if skew == 0 {
		skew = DefaultSkew
	}
	future := func(file, field string, t time.Time) {
		if t.After(now.Add(skew)) {
			errs = append(errs, fmt.Errorf("%s: %s: %w: %s is later than now (%s) plus %s of clock skew",
				file, field, ErrFuture, t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew))
		}
	}
	for _, cb := range cat.Builds {
		field := "build-date"
		if cb.BuildDate == nil {
			field = "release"
		}
		future(cb.Name, field, cb.Date)
		if p := cb.PromotedFrom; p != nil {
			future(cb.Name, "promoted-from.promoted-at", p.PromotedAt)
		}
	}
	for _, r := range cat.Revocations {
		future(r.Name, "revoked-at", r.RevokedAt)
	}
	for _, cb := range cat.Builds {
		k := key{cb.Stream, cb.Release}
		if prev, ok := builds[k]; ok {
			errs = append(errs, fmt.Errorf("%w: %s and %s both claim %s/%s", ErrConflict, prev.Name, cb.Name, k.stream, k.release))
			continue
		}
		b := &Build{Build: cb}
		builds[k] = b
		st := streams[cb.Stream]
		if st == nil {
			st = &Stream{Name: cb.Stream, Cadence: cadence(cb.Stream)}
			streams[cb.Stream] = st
		}
		st.Builds = append(st.Builds, b)
	}
	for _, r := range cat.Revocations {
		b := builds[key{r.Stream, r.Release}]
		switch {
		case b == nil:
			errs = append(errs, fmt.Errorf("%s: %w (%s/%s)", r.Name, ErrUnknownBuild, r.Stream, r.Release))
		case b.Revocation != nil:
			errs = append(errs, fmt.Errorf("%w: %s and %s both revoke %s/%s", ErrConflict, b.Revocation.Name, r.Name, r.Stream, r.Release))
		default:
			b.Revocation = r
		}
	}
	for _, b := range builds {
		p := b.PromotedFrom
		if p == nil {
			continue
		}
		switch c := builds[key{p.Stream, p.Release}]; {
		case c == nil:
			errs = append(errs, fmt.Errorf("%s: %w: no verified manifest of %s/%s", b.Name, ErrPromotion, p.Stream, p.Release))
		case c.SHA256 != p.SHA256:
			errs = append(errs, fmt.Errorf("%s: %w: %s has sha256 %s, the promotion names %s", b.Name, ErrPromotion, c.Name, c.SHA256, p.SHA256))
		}
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return nil, errors.Join(errs...)
	}
	state := &State{Now: now}
	for _, name := range slices.Sorted(maps.Keys(streams)) {
		st := streams[name]
		st.settle(now)
		state.Streams = append(state.Streams, st)
	}
	for _, st := range state.Streams {
		if cur := st.Current; cur != nil && cur.PromotedFrom != nil {
			if from := streams[cur.PromotedFrom.Stream]; from != nil {
				st.CandidateStream = from.Name
				st.NextCandidate, st.Failure, _ = state.Candidates(from, st)
			}
		}
	}
	return state, nil
}

// ReleaseDays are the latest release day at or before now and the next
// one: epoch plus whole cadences, so that a late release never moves the
// ones after it. A zero epoch means the day (UTC) of the stream's first
// release; ok is false when there is none yet, or now is before the
// epoch (next is then the epoch).
func (st *Stream) ReleaseDays(epoch, now time.Time) (last, next time.Time, ok bool) {
	if epoch.IsZero() {
		if len(st.Builds) == 0 {
			return time.Time{}, time.Time{}, false
		}
		epoch = st.Builds[len(st.Builds)-1].ReleasedAt().UTC().Truncate(24 * time.Hour) // Builds are newest first
	}
	if now.Before(epoch) {
		return time.Time{}, epoch, false
	}
	k := now.Sub(epoch) / st.Cadence
	last = epoch.Add(k * st.Cadence)
	return last, last.Add(st.Cadence), true
}

// FellBack reports whether the stream offers an older build because a
// newer release was withdrawn after the current one was released: until a
// new release replaces it, the stream serves its fallback.
func (st *Stream) FellBack() bool {
	for _, b := range st.Withdrawn {
		if st.Current == nil || b.Revocation.RevokedAt.After(st.Current.ReleasedAt()) {
			return true
		}
	}
	return false
}

// Candidates scans the builds of from that are newer than to's current
// build (every one, if to has none), as promote chooses among them. next
// is the newest that may be promoted: it passed its tests, is built as of
// now, is not revoked, and no promotion of it was revoked. failure is the
// newest that failed, and revoked the ones that passed but were revoked
// or withdrawn, newest first. to may be nil (a release stream with no
// build yet).
func (s *State) Candidates(from, to *Stream) (next, failure *Build, revoked []*Build) {
	var current *Build
	withdrawn := map[string]bool{} // candidates whose promotion was revoked
	if to != nil {
		current = to.Current
		for _, b := range to.Builds {
			if !b.Revoked() {
				continue
			}
			withdrawn[b.Release] = true // the same build, released directly
			if b.PromotedFrom != nil {
				withdrawn[b.PromotedFrom.Release] = true
			}
		}
	}
	for _, b := range from.Builds { // newest first
		if b.Date.After(s.Now) {
			continue // not built yet, as of now
		}
		if current != nil && !b.Date.After(current.Date) {
			break
		}
		switch {
		case b.Failed():
			if failure == nil {
				failure = b
			}
		case b.Revoked() || withdrawn[b.Release]:
			revoked = append(revoked, b)
		case next == nil:
			next = b
		}
	}
	return next, failure, revoked
}

func (st *Stream) settle(now time.Time) {
	st.Now = now
	slices.SortFunc(st.Builds, func(a, b *Build) int { return Newer(a.Build, b.Build) })
	for _, b := range st.Builds {
		if b.Offerable() {
			st.Current = b
			break
		}
		switch {
		case b.Failed():
			if st.Failure == nil {
				st.Failure = b
			}
		case b.Revoked():
			st.Withdrawn = append(st.Withdrawn, b)
		}
	}
	if st.Current != nil {
		st.StaleSince = st.Current.ReleasedAt().Add(st.Cadence)
		st.Stale = now.After(st.StaleSince)
	}
	for _, b := range st.Builds {
		if b.Revoked() {
			b.ReplacedBy = st.offeredAt(b.Revocation.RevokedAt, b)
		}
	}
}

// offeredAt is the build the stream offered at t, leaving out except: the
// newest build released by then (a promoted build is released when it is
// promoted, not when it was built) that neither failed nor was revoked by
// then.
func (st *Stream) offeredAt(t time.Time, except *Build) *Build {
	for _, b := range st.Builds { // newest first
		if b == except || b.Failed() || b.ReleasedAt().After(t) {
			continue
		}
		if b.Revoked() && !b.Revocation.RevokedAt.After(t) {
			continue
		}
		return b
	}
	return nil
}

// Newer orders builds newest first: by date, then by release string, each
// dotted field compared as a number where both are numbers.
func Newer(a, b *catalog.Build) int {
	if c := b.Date.Compare(a.Date); c != 0 {
		return c
	}
	return CompareReleases(b.Release, a.Release)
}

// CompareReleases compares release strings such as "22.20150616.0" field
// by field, numerically where both fields are numbers.
func CompareReleases(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range min(len(as), len(bs)) {
		an, aerr := strconv.ParseUint(as[i], 10, 64)
		bn, berr := strconv.ParseUint(bs[i], 10, 64)
		var c int
		if aerr == nil && berr == nil {
			c = cmp.Compare(an, bn)
		} else {
			c = strings.Compare(as[i], bs[i])
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(len(as), len(bs))
}
