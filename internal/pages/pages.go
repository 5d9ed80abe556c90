// Package pages turns the release state into what the site's templates
// read: one content file per generated page, with the page's data in JSON
// front matter, and the site-wide data. It knows nothing of Hugo beyond
// the shape of a content file.
package pages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/parallel"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/view"
)

// Generate returns every generated file for state (paths relative to
// the generated tree: content/… or data/…), in a stable order with
// stable bytes: the same state gives the same files. A cache kept between
// calls (serve) saves making again the pages of builds that did not
// change; nil makes every page.
func Generate(state *release.State, cfg *config.Config, cache *Cache) ([]view.File, error) {
	if cache == nil {
		cache = &Cache{}
	}
	if err := cache.begin(cfg); err != nil {
		return nil, err
	}
	streams := orderStreams(state, cfg)
	var files []view.File
	home := Home{}
	for _, st := range streams {
		sv, err := view.NewStream(st, cfg)
		if err != nil {
			return nil, err
		}
		// The home page shows each stream's current build and notices;
		// the history is on the stream's own page.
		brief := *sv
		brief.History = nil
		home.Streams = append(home.Streams, &brief)
		bf, err := cache.builds(st, sv, cfg, state.Now)
		if err != nil {
			return nil, err
		}
		files = append(files, bf...)
		// The stream's page is constant; what changes with each build is
		// in a headless page it reads. Hugo re-renders every page below a
		// section whose _index changes (its cascade might have), so the
		// state must not live there.
		f, err := contentFile(path.Join("content", "streams", st.Name, "_index.md"), withDate(map[string]any{
			"title": sv.Title, "layout": "stream", "params": map[string]any{"state": stateStream(st.Name)}}, oldest(st)))
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		if f, err = stateFile(stateStream(st.Name), map[string]any{"stream": sv}, newest(st)); err != nil {
			return nil, err
		}
		files = append(files, f)
		years := view.Years(st)
		for i, y := range years {
			params := map[string]any{"streamtitle": sv.Title, "streamurl": sv.URL, "year": y.Year, "builds": y.Builds}
			if i > 0 {
				params["newer"] = years[i-1].URL
			}
			if i+1 < len(years) {
				params["older"] = years[i+1].URL
			}
			f, err := contentFile(path.Join("content", "streams", st.Name, "history", y.Year+".md"), map[string]any{
				"title": sv.Title + ": builds of " + y.Year, "layout": "history", "params": params})
			if err != nil {
				return nil, err
			}
			files = append(files, f)
		}
	}
	first, last := oldest(streams...), newest(streams...)
	f, err := contentFile("content/_index.md", withDate(map[string]any{"title": cfg.Title, "params": map[string]any{"state": stateHome}}, first))
	if err != nil {
		return nil, err
	}
	files = append(files, f)
	if f, err = stateFile(stateHome, map[string]any{"home": home}, last); err != nil {
		return nil, err
	}
	files = append(files, f)
	if f, err = contentFile("content/state/_index.md", withDate(map[string]any{"title": "state",
		"build": map[string]any{"render": "never", "list": "never"}}, first)); err != nil {
		return nil, err
	}
	files = append(files, f)
	site := map[string]any{
		"title":   cfg.Title,
		"docs":    cfg.Docs,
		"streams": streamLinks(home.Streams),
		"example": state.Example,
	}
	data, err := json.MarshalIndent(site, "", "  ")
	if err != nil {
		return nil, err
	}
	files = append(files, view.File{Path: "data/sitegen.json", Data: append(data, '\n')})
	return files, nil
}

// buildPage is the content file of a build's page, and the build's data
// that its template reads as a resource: the page's front matter stays
// small, so that Hugo, which keeps every page's front matter in memory,
// does not hold ten years of builds' files and images as maps from the
// start; it decodes each build's data as it renders the page.
func buildPage(st *release.Stream, b *release.Build, sv *view.Stream, cfg *config.Config) ([]view.File, error) {
	bv, err := view.NewBuild(st, b, cfg)
	if err != nil {
		return nil, err
	}
	streamTitle := sv.Title
	if b == st.Current {
		// The current build's page warns as its stream's page does.
		bv.StreamState = notices(sv)
	}
	data, err := json.Marshal(bv)
	if err != nil {
		return nil, fmt.Errorf("generate the data of %s: %w", b.Path, err)
	}
	asset := path.Join(BuildDataDir, st.Name, b.Release+".json")
	fm := map[string]any{
		"title":  b.Release + " · " + bv.Title,
		"layout": "build",
		// Relative: Hugo puts each language's copy below its own
		// prefix (/de/streams/…); an absolute url is every language's.
		"url": strings.TrimPrefix(view.BuildURL(st.Name, b.Release), "/"),
		// A change to the data re-renders the page: Hugo knows the page
		// reads it.
		"params": map[string]any{"data": asset, "streamtitle": streamTitle},
		// The date orders the page and gives the sitemap its lastmod.
		"date": b.Date.UTC().Format(time.RFC3339),
	}
	// A level below the stream's page, which keeps the URL: Hugo samples
	// the pages beside a new one at its section's own level (see render).
	page, err := contentFile(path.Join("content", "streams", st.Name, "builds", b.Release+".md"), fm)
	if err != nil {
		return nil, err
	}
	page.Page = page.Path
	return []view.File{page, {Path: path.Join("assets", asset), Data: append(data, '\n'), Page: page.Path}}, nil
}

// SettleAfter is the age past which a build's page settles (see
// view.File.Settled), unless the build is its stream's current one: by
// then it is rarely revoked or rewritten, and nothing else changes it.
const SettleAfter = 90 * 24 * time.Hour

// BuildDataDir holds each build's data, below the assets
// (sitegen/builds/<stream>/<release>.json).
const BuildDataDir = "sitegen/builds"

// Cache keeps the build pages made by the last Generate, each under what
// its page is made from.
type Cache struct {
	config string // the config they were made with, as JSON
	pages  map[buildKey][]view.File
	next   map[buildKey][]view.File
}

// buildKey is everything a build's page is made from besides the config:
// its stream and the stream's title, the signed bytes of its manifest and
// of its revocation, whether it is current, what replaced it, and, for the
// current build, its stream's notices.
type buildKey struct {
	stream, title, manifest, revocation, replacedBy string
	current                                         bool
	notices                                         string
}

// notices is what a stream's notices are made from: the stream's view
// without its history, and of its current build only what names it.
func notices(sv *view.Stream) *view.Stream {
	n := *sv
	n.History, n.Years = nil, nil
	if sv.Current != nil {
		n.Current = &view.Build{Summary: sv.Current.Summary}
	}
	return &n
}

func (c *Cache) begin(cfg *config.Config) error {
	data, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if c.next != nil {
		c.pages = c.next // what the last Generate used, and only that
	}
	if string(data) != c.config {
		c.config, c.pages = string(data), nil
	}
	c.next = map[buildKey][]view.File{}
	return nil
}

// builds returns the pages of st's builds, in order, from the cache or
// made anew on every core.
func (c *Cache) builds(st *release.Stream, sv *view.Stream, cfg *config.Config, now time.Time) ([]view.File, error) {
	title := sv.Title
	var state string // the current build's page shows it
	if st.Current != nil {
		data, err := json.Marshal(notices(sv))
		if err != nil {
			return nil, err
		}
		state = string(data)
	}
	keys := make([]buildKey, len(st.Builds))
	made := make([][]view.File, len(st.Builds))
	errs := make([]error, len(st.Builds))
	var todo []int
	for i, b := range st.Builds {
		k := buildKey{stream: st.Name, title: title, manifest: b.SHA256, current: b == st.Current}
		if k.current {
			k.notices = state
		}
		if b.Revocation != nil {
			k.revocation = b.Revocation.SHA256
		}
		if r := b.ReplacedBy; r != nil {
			k.replacedBy = r.SHA256
		}
		keys[i] = k
		if f, ok := c.pages[k]; ok {
			made[i] = f
		} else {
			todo = append(todo, i)
		}
	}
	parallel.Each(context.Background(), len(todo), func(j int) {
		i := todo[j]
		made[i], errs[i] = buildPage(st, st.Builds[i], sv, cfg)
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var files []view.File
	for i, f := range made {
		c.next[keys[i]] = f
		b := st.Builds[i]
		settled := b != st.Current && now.Sub(b.Date) > SettleAfter
		for _, x := range f {
			// Not cached: time alone settles a page.
			x.Settled = settled
			files = append(files, x)
		}
	}
	return files, nil
}

// orderStreams puts configured streams first, in config order, then the
// rest by name.
func orderStreams(state *release.State, cfg *config.Config) []*release.Stream {
	order := cfg.StreamNames()
	streams := slices.Clone(state.Streams)
	slices.SortStableFunc(streams, func(a, b *release.Stream) int { return view.Rank(order, a.Name) - view.Rank(order, b.Name) })
	return streams
}

func streamLinks(streams []*view.Stream) []Link {
	links := make([]Link, len(streams))
	for i, s := range streams {
		links[i] = Link{Title: s.Title, URL: s.URL}
	}
	return links
}

// The headless pages that hold the home page's and the streams' state.
const stateHome = "/state/home"

func stateStream(name string) string { return "/state/stream-" + name }

// stateFile writes a headless page: never rendered or listed, read by the
// template of the page it belongs to. Its date is when what it holds last
// changed: the sitemap's lastmod of that page.
func stateFile(page string, params map[string]any, date time.Time) (view.File, error) {
	return contentFile("content"+page+".md", withDate(map[string]any{
		"title": page, "params": params, "build": map[string]any{"render": "never", "list": "never"}}, date))
}

// withDate dates a page. The home page and the sections carry a date that
// does not move, their first build's: left undated, Hugo dates them by
// their newest page, and re-renders every section on every change to
// keep that date right. When they last changed is in their state page.
func withDate(fm map[string]any, t time.Time) map[string]any {
	if !t.IsZero() {
		fm["date"] = t.UTC().Format(time.RFC3339)
	}
	return fm
}

// oldest is the date of the oldest build of streams; zero if none.
func oldest(streams ...*release.Stream) time.Time {
	var t time.Time
	for _, st := range streams {
		if n := len(st.Builds); n > 0 && (t.IsZero() || st.Builds[n-1].Date.Before(t)) {
			t = st.Builds[n-1].Date // newest first
		}
	}
	return t
}

// newest is the date of the newest build of streams; zero if none.
func newest(streams ...*release.Stream) time.Time {
	var t time.Time
	for _, st := range streams {
		if len(st.Builds) > 0 && st.Builds[0].Date.After(t) {
			t = st.Builds[0].Date
		}
	}
	return t
}

// contentFile writes a Hugo content file with JSON front matter and no
// body: every page is drawn by its template from params.
func contentFile(p string, frontMatter map[string]any) (view.File, error) {
	data, err := json.Marshal(frontMatter)
	if err != nil {
		return view.File{}, fmt.Errorf("generate %s: %w", p, err)
	}
	return view.File{Path: p, Data: append(data, '\n')}, nil
}

// Link is a titled link.
type Link struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Home is the data of the home page.
type Home struct {
	Streams []*view.Stream `json:"streams"`
}
