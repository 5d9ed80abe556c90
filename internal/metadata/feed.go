package metadata

import (
	"encoding/xml"
	"slices"
	"strings"
	"time"

	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/view"
)

// feedTitle names the stream, which a stream's title may not ("Fedora
// Atomic Host 28" is the stable stream's): a reader subscribed to several
// feeds must tell them apart.
func feedTitle(title, stream string) string {
	if !strings.Contains(strings.ToLower(title), strings.ToLower(stream)) {
		title += " (" + stream + ")"
	}
	return title + ": builds"
}

// Atom is an Atom 1.0 feed (RFC 4287).
type Atom struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  AtomPerson  `xml:"author"`
	Links   []AtomLink  `xml:"link"`
	Entries []AtomEntry `xml:"entry"`
}

// AtomPerson is an author.
type AtomPerson struct {
	Name string `xml:"name"`
}

// AtomLink is a link.
type AtomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
}

// AtomEntry is one event.
type AtomEntry struct {
	ID      string     `xml:"id"`
	Title   string     `xml:"title"`
	Updated string     `xml:"updated"`
	Links   []AtomLink `xml:"link"`
	Summary string     `xml:"summary"`
}

// feedEntries is how many of the newest events a feed keeps.
const feedEntries = 50

// Feed is a stream's Atom feed: new builds, failures, revocations and, while
// it lasts, the stale notice.
func Feed(st *release.Stream, cfg *config.Config) ([]byte, error) {
	title := cfg.Stream(st.Name).Title
	streamURL := cfg.SiteURL(view.StreamURL(st.Name))
	f := Atom{
		ID:     streamURL,
		Title:  feedTitle(title, st.Name),
		Author: AtomPerson{Name: cfg.Title + " release pipeline"},
		Links:  []AtomLink{{Rel: "self", Href: streamURL + "feed.xml"}, {Rel: "alternate", Href: streamURL}},
	}
	type event struct {
		at time.Time
		e  AtomEntry
	}
	var events []event
	for _, b := range st.Builds {
		u := cfg.SiteURL(view.BuildURL(st.Name, b.Release))
		switch {
		case b.Failed():
			events = append(events, event{b.Date, AtomEntry{ID: u + "#failed", Title: b.Release + " failed its tests",
				Links: []AtomLink{{Href: u}}, Summary: "Not offered for download. The failure is tracked at " + b.FailureTracker}})
		case b.PromotedFrom != nil:
			// RFC 4287's "via": the source of the entry's information, the
			// candidate the release was promoted from.
			p := b.PromotedFrom
			via := cfg.SiteURL(view.BuildURL(p.Stream, p.Release))
			events = append(events, event{b.ReleasedAt(), AtomEntry{ID: u + "#released", Title: b.Release + " released",
				Links: []AtomLink{{Href: u}, {Rel: "via", Href: via}},
				Summary: title + " " + b.Release + " is published, promoted from " + p.Stream + " build " + p.Release +
					" (manifest sha256 " + p.SHA256 + ")."}})
		default:
			events = append(events, event{b.Date, AtomEntry{ID: u + "#released", Title: b.Release + " released",
				Links: []AtomLink{{Href: u}}, Summary: title + " " + b.Release + " passed its tests and is published."}})
		}
		if b.Revoked() {
			instead := "Nothing could be offered in its place."
			if b.ReplacedBy != nil {
				instead = b.ReplacedBy.Release + " was offered in its place."
			}
			events = append(events, event{b.Revocation.RevokedAt, AtomEntry{ID: u + "#withdrawn", Title: b.Release + " withdrawn",
				Links: []AtomLink{{Href: b.Revocation.Reason}}, Summary: "Withdrawn: " + b.Revocation.Reason + ". " + instead}})
		}
	}
	if st.Stale {
		what := "No build"
		if st.CandidateStream != "" {
			what = "No candidate of " + st.CandidateStream
		}
		summary := what + " has passed its tests since " + st.Current.Date.Format("2006-01-02") + "; " + st.Current.Release + " is still offered."
		if st.Failure != nil {
			summary += " The newest failure is tracked at " + st.Failure.FailureTracker
		}
		events = append(events, event{st.StaleSince, AtomEntry{ID: streamURL + "#stale-" + st.Current.Release, Title: title + " is stale",
			Links: []AtomLink{{Href: streamURL}}, Summary: summary}})
	}
	slices.SortStableFunc(events, func(a, b event) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return strings.Compare(a.e.ID, b.e.ID)
	})
	if len(events) > feedEntries {
		events = events[:feedEntries]
	}
	updated := lastModified(st)
	for _, e := range events {
		e.e.Updated = e.at.UTC().Format(time.RFC3339)
		f.Entries = append(f.Entries, e.e)
		if e.at.After(updated) {
			updated = e.at
		}
	}
	f.Updated = updated.UTC().Format(time.RFC3339)
	out, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}
