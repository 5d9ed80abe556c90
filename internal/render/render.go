// Package render builds the site with Hugo, in-process. It is the only
// package that imports Hugo, whose Go API is unversioned: a Hugo upgrade
// should touch this file and nothing else.
package render

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bep/logg"
	"github.com/fsnotify/fsnotify"
	"github.com/gohugoio/hugo/common/loggers"
	"github.com/gohugoio/hugo/config"
	"github.com/gohugoio/hugo/config/allconfig"
	"github.com/gohugoio/hugo/deps"
	"github.com/gohugoio/hugo/hugofs"
	"github.com/gohugoio/hugo/hugolib"
	"github.com/gohugoio/hugo/resources/page"
	"github.com/spf13/afero"

	"github.com/projectatomic/atomic-site/internal/sitemap"
	"github.com/projectatomic/atomic-site/internal/view"
)

// Options say where everything is. Paths are absolute.
type Options struct {
	// ProjectDir holds site/hugo.toml, site/assets, site/static,
	// templates/ (the layouts) and content/ (hand-written pages).
	ProjectDir string
	// PublishDir is where the site is written.
	PublishDir string
	// CacheDir is Hugo's cache (resources, modules).
	CacheDir string
	BaseURL  string
	// Watch keeps the Site usable for rebuilds.
	Watch bool
	// Log receives Hugo's own warnings and errors.
	Log io.Writer
	// Languages are the site's languages, the default one (at the root
	// of the site) first; each other one's pages are below /KEY/. None:
	// English only.
	Languages []Language
}

// Language is one of the site's languages.
type Language struct {
	Key  string // in Hugo's config, and the path of its pages: de, en-xa
	Tag  string // BCP 47: de, en-XA
	Name string // in itself, for the language selector
	RTL  bool
	// Messages are its messages as Hugo's T reads them (i18n/KEY.json).
	// Hugo reads them when it starts: new ones need a Restart.
	Messages []byte
}

// Equal reports whether l and o are the same language, with the same
// messages.
func (l Language) Equal(o Language) bool {
	return l.Key == o.Key && l.Tag == o.Tag && l.Name == o.Name && l.RTL == o.RTL && bytes.Equal(l.Messages, o.Messages)
}

// genRoot is where the generated tree appears to Hugo. It lives in memory
// only: on the disks this runs on, creating a file costs far more than
// rendering it.
const genRoot = "/.sitegen-generated"

// Site is a loaded Hugo site, ready to build and, with Watch, to rebuild.
type Site struct {
	opts   Options
	h      *hugolib.HugoSites
	gen    *genFS // the layer holding genRoot: the generated files, as last built
	builds int
	// fresh is a Hugo that has not built yet: its first build renders
	// every page. restart says the next build starts a Hugo afresh: the
	// last one failed, or the project's config changed.
	fresh, restart bool
	// apart are the settled pages rendered apart (Watch), by content
	// file, and apartBase the site-wide data they were rendered with.
	apart     map[string]apartPage
	apartBase [sha256.Size]byte
	// rendered is Hugo's own count of the pages its last build rendered,
	// read from the figures it logs at the end of its render step.
	rendered atomic.Int64
}

// New loads the Hugo configuration and prepares the site.
func New(opts Options) (*Site, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	s := &Site{opts: opts, gen: newGenFS(), apart: map[string]apartPage{}}
	for _, d := range []string{"content", "data", "assets", "i18n"} {
		if err := s.gen.MkdirAll(genRoot+"/"+d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// load starts a Hugo on the project and the generated tree: it renders
// every page at its first build.
func (s *Site) load() error {
	opts := s.opts
	flags := config.New()
	flags.Set("workingDir", opts.ProjectDir)
	flags.Set("publishDir", opts.PublishDir)
	flags.Set("cacheDir", opts.CacheDir)
	flags.Set("noBuildLock", true)
	if opts.BaseURL != "" {
		flags.Set("baseURL", opts.BaseURL)
	}
	if opts.Watch {
		// As hugo server runs it: re-render only the pages a change touches.
		flags.Set("internal", map[string]any{"watch": true, "running": true})
		// Hugo would inject its livereload script into every page, for a
		// server sitegen does not run: serve's pages are what build's are.
		flags.Set("disableLiveReload", true)
	}
	if len(opts.Languages) > 0 {
		langs := map[string]any{}
		for _, p := range s.gen.paths() {
			if strings.HasPrefix(p, genRoot+"/i18n/") {
				s.gen.del(p)
			}
		}
		for i, l := range opts.Languages {
			s.gen.set(genRoot+"/i18n/"+l.Key+".json", l.Messages)
			dir := "ltr"
			if l.RTL {
				dir = "rtl"
			}
			langs[l.Key] = map[string]any{"weight": i + 1, "label": l.Name, "locale": l.Tag, "direction": dir}
		}
		flags.Set("languages", langs)
		flags.Set("defaultContentLanguage", opts.Languages[0].Key)
		flags.Set("defaultContentLanguageInSubdir", false)
	}
	// The folder layout is this program's contract, not a setting. The
	// generated pages are in every language; a hand-written page is in the
	// language its name says (about.de.md), English without one.
	every := map[string]any{"matrix": map[string]any{"languages": []string{"**"}}}
	flags.Set("module", map[string]any{"mounts": []map[string]any{
		{"source": "content", "target": "content"},
		{"source": genRoot + "/content", "target": "content", "sites": every},
		{"source": genRoot + "/data", "target": "data"},
		{"source": genRoot + "/i18n", "target": "i18n"},
		{"source": "templates", "target": "layouts"},
		{"source": "site/assets", "target": "assets"},
		{"source": genRoot + "/assets", "target": "assets"},
	}})
	logger := loggers.New(loggers.Options{
		// Info, for the render step's page count; only warnings and
		// errors reach opts.Log.
		Level:         logg.LevelInfo,
		StdOut:        io.Discard,
		StdErr:        &warnings{w: opts.Log},
		DistinctLevel: logg.LevelWarn,
		HandlerPost:   s.count,
	})
	// Reads see the generated tree over the disk; writes (the published
	// site) go to the disk.
	src := afero.NewCopyOnWriteFs(afero.NewOsFs(), s.gen)
	afs := afero.NewOsFs()
	res, err := allconfig.LoadConfig(allconfig.ConfigSourceDescriptor{
		Fs:       src,
		Logger:   logger,
		Flags:    flags,
		Filename: filepath.Join(opts.ProjectDir, "site", "hugo.toml"),
		// A non-empty environment, so that stray HUGO_* variables of
		// whoever runs sitegen cannot change the site.
		Environ:     []string{"SITEGEN=1"},
		Environment: "production",
	})
	if err != nil {
		return fmt.Errorf("hugo config: %w", err)
	}
	h, err := hugolib.NewHugoSites(deps.DepsCfg{
		Configs: res,
		Fs:      hugofs.NewFromSourceAndDestination(src, afs, res.LoadingInfo.Cfg),
		// Hugo's only way to take a logger it did not make: the sites
		// must log to ours, for the page count.
		TestLogger: logger,
	})
	if err != nil {
		return fmt.Errorf("hugo: %w", err)
	}
	s.Close() // the Hugo it replaces
	s.h, s.fresh = h, true
	return nil
}

// Close stops the Hugo: its caches' goroutines hold all it loaded until
// then.
func (s *Site) Close() error {
	if s.h == nil {
		return nil
	}
	return s.h.Close()
}

// Restart has the next build start Hugo afresh, with the project's config
// read again and the site's base URL and languages, and render every page
// again. Unlike a new Site, it still removes what pages gone meanwhile
// published.
func (s *Site) Restart(baseURL string, langs []Language) {
	s.opts.BaseURL, s.opts.Languages, s.restart = baseURL, langs, true
}

// count keeps the page count of the render step's closing log entry.
func (s *Site) count(e *logg.Entry) error {
	var render bool
	var pages int64 = -1
	for _, f := range e.Fields {
		switch {
		case f.Name == "step" && f.Value == "render":
			render = true
		case f.Name == "pages":
			if n, ok := f.Value.(uint64); ok {
				pages = int64(n)
			}
		}
	}
	if render && pages >= 0 {
		s.rendered.Store(pages)
	}
	return nil
}

// warnings passes Hugo's warnings and errors to w and drops its info
// lines, which its log handlers write to the same writer, a line in several
// writes (always under the handler's lock).
type warnings struct {
	w    io.Writer
	line []byte
}

func (w *warnings) Write(p []byte) (int, error) {
	w.line = append(w.line, p...)
	for {
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := w.line[:i+1]
		if !bytes.HasPrefix(ansi.ReplaceAll(line, nil), []byte("INFO")) {
			if _, err := w.w.Write(line); err != nil {
				return len(p), err
			}
		}
		w.line = w.line[i+1:]
	}
}

// ansi matches the colour codes Hugo's terminal handler writes.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// Build renders the site into PublishDir from the project and the
// generated files (paths relative to the generated tree: content/… or
// data/…), and copies site/static over it (Hugo's library does not;
// its command does). On a rebuild, only the generated files that differ
// from the last build, and the project files named in changed, are told to
// Hugo as changed, so it renders only what they touch. With Watch, settled
// pages are rendered apart (see apart.go).
func (s *Site) Build(ctx context.Context, generated []view.File, changed []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.opts.Watch {
		n, err := s.build(ctx, generated, changed, nil)
		s.rendered.Store(n)
		return err
	}
	return s.buildWatched(ctx, generated, changed)
}

// build renders generated with the long-lived Hugo and returns Hugo's
// count of the pages it rendered (-1: it did not say). A page that goes
// keeps its published files if keep holds it.
func (s *Site) build(ctx context.Context, generated []view.File, changed []string, keep map[string]bool) (int64, error) {
	var events []fsnotify.Event
	// undo puts the generated tree back as Hugo last rendered it, should
	// this build fail: the next one then tells Hugo of the same changes.
	var undo []func()
	present := make(map[string]bool, len(generated))
	for _, f := range s.withDecoys(generated) {
		p := genRoot + "/" + f.Path
		present[p] = true
		old, ok := s.gen.get(p)
		if ok && bytes.Equal(old, f.Data) {
			continue
		}
		s.gen.set(p, f.Data)
		op := fsnotify.Write
		if ok {
			undo = append(undo, func() { s.gen.set(p, old) })
		} else {
			op = fsnotify.Create
			undo = append(undo, func() { s.gen.del(p) })
		}
		events = append(events, fsnotify.Event{Name: p, Op: op})
	}
	for _, p := range s.gen.paths() {
		if !present[p] && !strings.HasPrefix(p, genRoot+"/i18n/") {
			old, _ := s.gen.get(p)
			s.gen.del(p)
			undo = append(undo, func() { s.gen.set(p, old) })
			events = append(events, fsnotify.Event{Name: p, Op: fsnotify.Remove})
		}
	}
	for _, p := range changed {
		op := fsnotify.Write
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			op = fsnotify.Remove
		}
		events = append(events, fsnotify.Event{Name: p, Op: op})
	}
	fail := func(err error) (int64, error) {
		for _, u := range undo {
			u()
		}
		// What Hugo holds after a failure is not known: the next build
		// starts a Hugo afresh.
		s.restart = true
		return -1, err
	}
	static := filepath.Join(s.opts.ProjectDir, "site", "static")
	// Many pages of one directory at once (a batch each): a fresh Hugo
	// renders them all sooner, and so it does after a failure.
	reload := !s.fresh && (s.restart || len(batches(events)) > maxBatches)
	if !s.fresh && !reload {
		if len(events) == 0 {
			// Nothing changed: Hugo would render every page again.
			return 0, nil
		}
		if !slices.ContainsFunc(changed, func(p string) bool { return within(static, p) }) {
			static = ""
		}
	}
	s.builds++
	// Hugo leaves what a removed page published: its files go once the
	// page is gone, so that serve's site has no page a build would not.
	gone := s.published(events, keep)
	if reload {
		if err := s.load(); err != nil {
			return fail(err)
		}
	}
	if s.fresh {
		events = nil
	}
	var rendered int64
	for _, batch := range batches(events) {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		s.rendered.Store(-1)
		if err := s.h.Build(hugolib.BuildCfg{NoBuildLock: true}, batch...); err != nil {
			return fail(fmt.Errorf("hugo: %w", err))
		}
		if n := s.rendered.Load(); n < 0 || rendered < 0 {
			rendered = -1
		} else {
			rendered += n
		}
	}
	s.fresh, s.restart = false, false
	for _, f := range gone {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return rendered, err
		}
		os.Remove(filepath.Dir(f)) // the page's directory, if nothing else is there
	}
	if static == "" {
		return rendered, nil
	}
	return rendered, copyStatic(static, s.opts.PublishDir)
}

// published lists the files Hugo published for the generated pages that
// events remove, but for those keep holds (by their content path).
func (s *Site) published(events []fsnotify.Event, keep map[string]bool) []string {
	var out []string
	for _, e := range events {
		rel, ok := strings.CutPrefix(e.Name, genRoot+"/")
		if !ok || !e.Op.Has(fsnotify.Remove) || path.Ext(rel) != ".md" || keep[rel] {
			continue
		}
		if files, _, ok := pageOf(s.h, rel); ok {
			for _, f := range files {
				out = append(out, filepath.Join(s.opts.PublishDir, filepath.FromSlash(f)))
			}
		}
	}
	return out
}

// outputs lists the files (slash paths below the publish directory) that
// Hugo publishes for p.
func outputs(p page.Page) []string {
	var out []string
	for _, of := range p.OutputFormats() {
		link := of.RelPermalink()
		if link == "" {
			continue
		}
		if strings.HasSuffix(link, "/") {
			link += "index.html"
		}
		out = append(out, strings.TrimPrefix(link, "/"))
	}
	return out
}

// batches splits the events of a rebuild so that no Hugo build is told of
// two pages of one content directory added or changed. Hugo v0.165's
// partial rebuild walks each directory once, for the first event there,
// and for a page added or changed reads just that page: the others keep
// their old content, or are not there (gohugoio/hugo#15330, fixed after
// v0.165). The home page's and the streams' state pages change together
// on every new build, and a stream page rendered from its stale state
// showed the previous build as current; of two streams or builds that
// came at once, the second had no page. The first batch holds the first
// page added or changed of each directory and every other event (pages
// removed, which Hugo takes from its tree whatever it reads); each
// further one, the next page of each directory. Sections added come
// last, as a batch of their own: they are the pages that read other pages
// (the home page and a stream's read their state pages), and one rendered
// before the page it reads was there would not be rendered again.
func batches(events []fsnotify.Event) [][]fsnotify.Event {
	out := [][]fsnotify.Event{nil}
	var sections []fsnotify.Event
	n := map[string]int{} // pages told of, by directory
	for _, e := range events {
		i := 0
		switch {
		case filepath.Ext(e.Name) != ".md" || e.Op.Has(fsnotify.Remove):
		case filepath.Base(e.Name) == "_index.md" && e.Op.Has(fsnotify.Create):
			sections = append(sections, e)
			continue
		default:
			dir := filepath.Dir(e.Name)
			i = n[dir]
			n[dir]++
		}
		for len(out) <= i {
			out = append(out, nil)
		}
		out[i] = append(out[i], e)
	}
	if sections != nil {
		out = append(out, sections)
	}
	return out
}

// maxBatches is the most Hugo builds a rebuild makes: past it, a fresh
// Hugo renders every page at once.
const maxBatches = 4

// Decoys: given a new page, Hugo also re-renders up to eleven pages beside
// it (the first, in path order, at its section's own level), in case a
// template lists them (site.RegularPages and the like). These templates
// list nothing Hugo knows of; the lists come from generated data. So that a
// new build renders only the pages it changes, not old build pages as
// well, the pages Hugo samples are decoys: never rendered, read by
// nothing. A generated section whose pages sit in directories below it
// gets one ("!" sorts before every letter and digit), and Hugo samples
// only it; one with pages of its own gets eleven, all Hugo samples. Each
// page sampled costs a search through every page's dependencies.
// (hugolib: pageTrees.collectIdentitiesSurrounding.)
const maxSampled = 11

// withDecoys adds the decoy pages to each generated section.
func (s *Site) withDecoys(generated []view.File) []view.File {
	sections := map[string]bool{} // by directory: has pages of its own
	for _, f := range generated {
		if d, name := path.Split(f.Path); name == "_index.md" && !sections[d] {
			sections[d] = false
		}
	}
	for _, f := range generated {
		if d, name := path.Split(f.Path); name != "_index.md" && strings.HasSuffix(name, ".md") {
			if _, ok := sections[d]; ok {
				sections[d] = true
			}
		}
	}
	out := generated[:len(generated):len(generated)] // appends copy
	for _, d := range slices.Sorted(maps.Keys(sections)) {
		n := 1
		if sections[d] {
			n = maxSampled
		}
		for i := range n {
			out = append(out, view.File{Path: fmt.Sprintf("%s!decoy-%02d.md", d, i), Data: decoyPage})
		}
	}
	return out
}

var decoyPage = []byte(`{"title":"decoy","build":{"render":"never","list":"never","publishResources":false}}` + "\n")

// within reports whether p is dir or below it.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Pages is how many pages the site has.
func (s *Site) Pages() int {
	n := len(s.apart)
	for _, site := range s.h.Sites {
		n += len(site.Pages())
	}
	return n
}

// Sitemap lists the pages of the last build for the sitemap, by location,
// with when each last changed: for a page drawn from a state page (the
// home page, a stream's), and for a section, when that state did; and with
// the page in each language. Hugo's own sitemap template did the same at a
// cost that grew with the history on every rebuild.
func (s *Site) Sitemap() []sitemap.URL {
	var urls []sitemap.URL
	for _, site := range s.h.Sites {
		for _, p := range site.Pages() {
			if u, ok := sitemapURL(s.h, p); ok {
				urls = append(urls, u)
			}
		}
	}
	for _, a := range s.apart {
		urls = append(urls, a.urls...)
	}
	slices.SortFunc(urls, func(a, b sitemap.URL) int { return strings.Compare(a.Loc, b.Loc) })
	return urls
}

// sitemapURL is p's entry in the sitemap, if it has one.
func sitemapURL(h *hugolib.HugoSites, p page.Page) (sitemap.URL, bool) {
	link := p.Permalink()
	if link == "" || p.Sitemap().Disable {
		return sitemap.URL{}, false
	}
	lastmod := func(ref string) time.Time {
		if p, err := h.Sites[0].GetPage(ref); err == nil && p != page.NilPage {
			return p.Lastmod()
		}
		return time.Time{}
	}
	t := p.Lastmod()
	if ref, ok := p.Params()["state"].(string); ok {
		t = lastmod(ref)
	} else if p.IsSection() {
		t = lastmod("/state/home")
	}
	u := sitemap.URL{Loc: link}
	if !t.IsZero() {
		u.LastMod = t.Format("2006-01-02T15:04:05-07:00")
	}
	if len(h.Sites) > 1 {
		u.Alternates = Alternates(p)
	}
	return u, true
}

// Alternates lists p in each language it is in, itself included, and the
// default language's as x-default: the hreflang links of its head and of
// the sitemap.
func Alternates(p page.Page) []sitemap.Alternate {
	var out []sitemap.Alternate
	for _, t := range p.AllTranslations() {
		out = append(out, sitemap.Alternate{Lang: t.Language().Locale(), Href: t.Permalink()})
		if t.Language().IsDefault() {
			out = append(out, sitemap.Alternate{Lang: "x-default", Href: t.Permalink()})
		}
	}
	return out
}

// pageOf says what h published for the page of the content file rel
// (content/….md), in every language, and its sitemap entries.
func pageOf(h *hugolib.HugoSites, rel string) ([]string, []sitemap.URL, bool) {
	var files []string
	var urls []sitemap.URL
	found := false
	for _, site := range h.Sites {
		p, err := site.GetPage("/" + strings.TrimSuffix(strings.TrimPrefix(rel, "content/"), ".md"))
		if err != nil || p == page.NilPage {
			continue
		}
		found = true
		files = append(files, outputs(p)...)
		if u, ok := sitemapURL(h, p); ok {
			urls = append(urls, u)
		}
	}
	return files, urls, found
}

// Rendered is how many pages Hugo says its last build rendered (each
// output format of a page counts once), or -1 if it did not say.
func (s *Site) Rendered() int { return int(s.rendered.Load()) }

func copyStatic(src, dst string) error {
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("copy static files: %w", err)
	}
	return nil
}
