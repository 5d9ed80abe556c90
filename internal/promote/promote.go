// Package promote makes the two-week release: on a release day it picks
// the newest build of the candidate stream that passed its tests and is
// not revoked, and signs it into the release stream, naming the exact
// candidate file it came from. Release days are fixed (an epoch plus
// whole cadences), so a late promotion never shifts the ones after it.
package promote

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/release"
)

// Options say what to promote, and when.
type Options struct {
	From, To string
	Now      time.Time
	// Epoch is the first release day; zero means the day (UTC) of the
	// release stream's first release.
	Epoch  time.Time
	Policy string // config.NextGood or config.Skip
	// WithdrawnPolicy says what follows a withdrawn release:
	// config.NextGood promotes the newest good candidate at once,
	// config.Wait keeps the release days.
	WithdrawnPolicy string
	// Force promotes off schedule, for a security fix.
	Force bool
}

// Outcome is what a run comes to.
type Outcome int

// The outcomes of Decide.
const (
	Promoted      Outcome = iota // a candidate qualified
	NotDue                       // not a release day, or this one is done
	NothingPassed                // due, but no build qualified
)

// ExitNothingPassed is the exit code of a run that was due but found no
// build to promote: an outcome a bot hears about, not a failure, and
// never 2, which means a usage error.
const ExitNothingPassed = 4

// Decision is what Decide found.
type Decision struct {
	Outcome Outcome
	// ReleaseDay is the release day the run serves: the latest at or
	// before now (now itself for a first release or with Force).
	ReleaseDay time.Time
	// NextDue is the next release day, for NotDue.
	NextDue time.Time
	// Candidate is the build to promote, for Promoted.
	Candidate *release.Build
	// Current is the release stream's current build, if any.
	Current *release.Build
	// For NothingPassed: the newest failed candidate since Current, and
	// candidates that passed but were revoked, newest first.
	Failure *release.Build
	Revoked []*release.Build
}

const day = 24 * time.Hour

// Decide says whether a promotion is due at opts.Now and which candidate
// qualifies. It is pure: the verified state goes in, the decision comes
// out.
func Decide(state *release.State, opts Options) (*Decision, error) {
	from := state.Stream(opts.From)
	if from == nil {
		return nil, fmt.Errorf("no stream %q in the manifests", opts.From)
	}
	d := &Decision{ReleaseDay: opts.Now}
	to := state.Stream(opts.To)
	if to != nil {
		d.Current = to.Current
	}
	// A withdrawn release, under next-good, is replaced at once by the
	// newest good candidate: the stream must not serve the old fallback
	// until the next release day.
	replace := opts.WithdrawnPolicy != config.Wait && to != nil && to.FellBack()
	if to != nil && len(to.Builds) > 0 && !opts.Force && !replace {
		last, next, ok := to.ReleaseDays(opts.Epoch, opts.Now)
		if !ok {
			d.Outcome, d.NextDue = NotDue, next
			return d, nil
		}
		d.ReleaseDay, d.NextDue = last, next
		switch {
		case releasedSince(to, d.ReleaseDay):
			d.Outcome = NotDue
			return d, nil
		case opts.Policy == config.Skip && !opts.Now.Before(d.ReleaseDay.Add(day)):
			// The release day passed with nothing to release: wait.
			d.Outcome = NotDue
			return d, nil
		}
	}
	d.Candidate, d.Failure, d.Revoked = state.Candidates(from, to)
	if d.Candidate != nil {
		d.Outcome = Promoted
		return d, nil
	}
	d.Outcome = NothingPassed
	return d, nil
}

// releasedSince reports whether the stream released a build (promoted, or
// published directly) at or after t, even one revoked since: the release
// day was used.
func releasedSince(st *release.Stream, t time.Time) bool {
	for _, b := range st.Builds {
		if !b.Failed() && !b.ReleasedAt().Before(t) {
			return true
		}
	}
	return false
}

// Why is the one line a bot logs for a decision that promoted nothing.
func (d *Decision) Why(opts Options) string {
	const date = "2006-01-02"
	switch d.Outcome {
	case NotDue:
		if d.Current != nil && !d.Current.ReleasedAt().Before(d.ReleaseDay) {
			return fmt.Sprintf("not due: %s released %s on %s; the next release day is %s",
				opts.To, d.Current.Release, d.Current.ReleasedAt().Format(date), d.NextDue.Format(date))
		}
		return fmt.Sprintf("not due: the next release day of %s is %s", opts.To, d.NextDue.Format(date))
	case NothingPassed:
		since := "yet"
		if d.Current != nil {
			since = "since " + d.Current.Release
		}
		var why []string
		if f := d.Failure; f != nil {
			why = append(why, fmt.Sprintf("newest failure %s: %s", f.Release, f.FailureTracker))
		}
		for _, r := range d.Revoked {
			reason := "its promotion was revoked"
			if r.Revocation != nil {
				reason = r.Revocation.Reason
			}
			why = append(why, fmt.Sprintf("%s was revoked: %s", r.Release, reason))
		}
		line := fmt.Sprintf("due (release day %s), but no build of %s passed %s", d.ReleaseDay.Format(date), opts.From, since)
		if len(why) > 0 {
			line += "; " + strings.Join(why, "; ")
		}
		return line
	}
	return ""
}

// Manifest is the release stream's manifest for a candidate: its
// artifacts, ostree commit, notes and build date, in the release stream,
// with promoted-from naming the candidate file's exact bytes. Relative
// artifact locations are made absolute (they were relative to the
// candidate's stream directory). ref, when set, is the release stream's
// ostree ref.
func Manifest(c *release.Build, to, ref string, cfg *config.Config, at time.Time) ([]byte, error) {
	m := *c.Build.Build
	m.Schema = manifest.BuildSchema
	m.Stream = to
	m.Status = manifest.StatusReleased
	m.FailureTracker = ""
	m.PromotedFrom = &manifest.PromotedFrom{Stream: c.Stream, Release: c.Release, SHA256: c.SHA256, PromotedAt: at.UTC()}
	if o := c.OSTree; o != nil {
		cp := *o
		if ref != "" {
			cp.Ref = ref
		}
		m.OSTree = &cp
	}
	m.Architectures = map[string]*manifest.Architecture{}
	for name, a := range c.Architectures {
		ca := *a
		ca.Media = map[string]*manifest.Platform{}
		for pname, p := range a.Media {
			cp := *p
			cp.Artifacts = map[string]manifest.Format{}
			for fname, f := range p.Artifacts {
				cf := manifest.Format{}
				for role, art := range f {
					copied := *art
					for _, loc := range []*string{&copied.Location, &copied.Signature} {
						if *loc == "" || strings.Contains(*loc, "://") {
							continue
						}
						if cfg.DownloadsURL == "" {
							return nil, fmt.Errorf("%s: %s is relative to %s/: set downloads-url in the config so that %s's manifest can point at it", c.Name, *loc, c.Stream, to)
						}
						*loc = cfg.ArtifactURL(c.Stream, *loc)
					}
					cf[role] = &copied
				}
				cp.Artifacts[fname] = cf
			}
			cp.Images = maps.Clone(p.Images)
			ca.Media[pname] = &cp
		}
		m.Architectures[name] = &ca
	}
	data, err := json.MarshalIndent(&m, "", "  ")
	if err != nil {
		return nil, err
	}
	data = append(data, '\n')
	// What is about to be signed gets the same checks as every reader.
	if _, err := manifest.Parse(to+"/"+c.Release+".json", data); err != nil {
		return nil, err
	}
	return data, nil
}
