// Package render builds the site with Hugo, in-process. It is the only
// package that imports Hugo, whose Go API is unversioned: a Hugo upgrade
// should touch this file and nothing else.
package render

import (
	"bytes"
	"context"
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
	// rendered is Hugo's own count of the pages its last build rendered,
	// read from the figures it logs at the end of its render step.
	rendered atomic.Int64
}

// New loads the Hugo configuration and prepares the site.
func New(opts Options) (*Site, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
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
	// The folder layout is this program's contract, not a setting.
	flags.Set("module", map[string]any{"mounts": []map[string]any{
		{"source": "content", "target": "content"},
		{"source": genRoot + "/content", "target": "content"},
		{"source": genRoot + "/data", "target": "data"},
		{"source": "templates", "target": "layouts"},
		{"source": "site/assets", "target": "assets"},
		{"source": genRoot + "/assets", "target": "assets"},
	}})
	s := &Site{opts: opts}
	logger := loggers.New(loggers.Options{
		// Info, for the render step's page count; only warnings and
		// errors reach opts.Log.
		Level:         logg.LevelInfo,
		StdOut:        io.Discard,
		StdErr:        &warnings{w: opts.Log},
		DistinctLevel: logg.LevelWarn,
		HandlerPost:   s.count,
	})
	gen := newGenFS()
	for _, d := range []string{"content", "data", "assets"} {
		if err := gen.MkdirAll(genRoot+"/"+d, 0o755); err != nil {
			return nil, err
		}
	}
	// Reads see the generated tree over the disk; writes (the published
	// site) go to the disk.
	src := afero.NewCopyOnWriteFs(afero.NewOsFs(), gen)
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
		return nil, fmt.Errorf("hugo config: %w", err)
	}
	h, err := hugolib.NewHugoSites(deps.DepsCfg{
		Configs: res,
		Fs:      hugofs.NewFromSourceAndDestination(src, afs, res.LoadingInfo.Cfg),
		// Hugo's only way to take a logger it did not make: the sites
		// must log to ours, for the page count.
		TestLogger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("hugo: %w", err)
	}
	s.h, s.gen = h, gen
	return s, nil
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
// Hugo as changed, so it renders only what they touch.
func (s *Site) Build(ctx context.Context, generated []view.File, changed []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	first := s.builds == 0
	var events []fsnotify.Event
	keep := make(map[string]bool, len(generated))
	for _, f := range s.withDecoys(generated) {
		p := genRoot + "/" + f.Path
		keep[p] = true
		old, ok := s.gen.get(p)
		if ok && bytes.Equal(old, f.Data) {
			continue
		}
		s.gen.set(p, f.Data)
		op := fsnotify.Write
		if !ok {
			op = fsnotify.Create
		}
		events = append(events, fsnotify.Event{Name: p, Op: op})
	}
	for _, p := range s.gen.paths() {
		if !keep[p] {
			s.gen.del(p)
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
	static := filepath.Join(s.opts.ProjectDir, "site", "static")
	if !first {
		if len(events) == 0 {
			// Nothing changed: Hugo would render every page again.
			s.rendered.Store(0)
			return nil
		}
		if !slices.ContainsFunc(changed, func(p string) bool { return within(static, p) }) {
			static = ""
		}
	}
	if first {
		events = nil
	}
	s.builds++
	// Hugo leaves what a removed page published: its files go once the
	// page is gone, so that serve's site has no page a build would not.
	gone := s.published(events)
	var rendered int64
	for _, batch := range batches(events) {
		s.rendered.Store(-1)
		if err := s.h.Build(hugolib.BuildCfg{NoBuildLock: true}, batch...); err != nil {
			return fmt.Errorf("hugo: %w", err)
		}
		if n := s.rendered.Load(); n < 0 || rendered < 0 {
			rendered = -1
		} else {
			rendered += n
		}
	}
	s.rendered.Store(rendered)
	for _, f := range gone {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		os.Remove(filepath.Dir(f)) // the page's directory, if nothing else is there
	}
	if static == "" {
		return nil
	}
	return copyStatic(static, s.opts.PublishDir)
}

// published lists the HTML files of the generated pages that events
// remove, as Hugo published them.
func (s *Site) published(events []fsnotify.Event) []string {
	var out []string
	for _, e := range events {
		rel, ok := strings.CutPrefix(e.Name, genRoot+"/content/")
		if !ok || !e.Op.Has(fsnotify.Remove) || path.Ext(rel) != ".md" {
			continue
		}
		p, err := s.h.Sites[0].GetPage("/" + strings.TrimSuffix(rel, ".md"))
		if err != nil || p == page.NilPage || p.RelPermalink() == "" {
			continue
		}
		target := filepath.Join(s.opts.PublishDir, filepath.FromSlash(p.RelPermalink()))
		if strings.HasSuffix(p.RelPermalink(), "/") {
			target = filepath.Join(target, "index.html")
		}
		out = append(out, target)
	}
	return out
}

// batches splits the events of a rebuild so that no Hugo build is told of
// two changed pages in one content directory, unless a page was added or
// removed there too. Hugo v0.165's partial rebuild walks each directory
// once and, for a page that only changed, re-reads just the first it was
// told of: the others keep their old content (gohugoio/hugo#15330, fixed
// after v0.165). The home page's and the streams' state pages change
// together on every new build, and a stream page rendered from its stale
// state showed the previous build as current. The first batch holds every
// other event; each further one, the next changed page of each directory.
func batches(events []fsnotify.Event) [][]fsnotify.Event {
	structural := map[string]bool{} // directories with a page added or removed
	for _, e := range events {
		if !e.Op.Has(fsnotify.Write) {
			structural[filepath.Dir(e.Name)] = true
		}
	}
	out := [][]fsnotify.Event{nil}
	n := map[string]int{} // changed pages told of, by directory
	for _, e := range events {
		dir, name := filepath.Split(e.Name)
		dir = filepath.Clean(dir)
		page := filepath.Ext(name) == ".md" && name != "_index.md" && name != "index.md"
		i := 0
		if page && e.Op.Has(fsnotify.Write) && !structural[dir] {
			i = n[dir]
			n[dir]++
		}
		for len(out) <= i {
			out = append(out, nil)
		}
		out[i] = append(out[i], e)
	}
	return out
}

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

// Pages is how many pages the last build rendered.
func (s *Site) Pages() int {
	n := 0
	for _, site := range s.h.Sites {
		n += len(site.Pages())
	}
	return n
}

// Sitemap lists the pages of the last build for the sitemap, in Hugo's
// order, with when each last changed: for a page drawn from a state page
// (the home page, a stream's), and for a section, when that state did.
// Hugo's own sitemap template did the same at a cost that grew with the
// history on every rebuild.
func (s *Site) Sitemap() []sitemap.URL {
	site := s.h.Sites[0]
	lastmod := func(ref string) time.Time {
		if p, err := site.GetPage(ref); err == nil && p != page.NilPage {
			return p.Lastmod()
		}
		return time.Time{}
	}
	home := lastmod("/state/home")
	var urls []sitemap.URL
	for _, p := range site.Pages() {
		link := p.Permalink()
		if link == "" || p.Sitemap().Disable {
			continue
		}
		t := p.Lastmod()
		if ref, ok := p.Params()["state"].(string); ok {
			t = lastmod(ref)
		} else if p.IsSection() {
			t = home
		}
		u := sitemap.URL{Loc: link}
		if !t.IsZero() {
			u.LastMod = t.Format("2006-01-02T15:04:05-07:00")
		}
		urls = append(urls, u)
	}
	return urls
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
