// Package builder runs the whole site build: verify the manifests, decide
// the release state, generate the pages' data, render with Hugo, publish
// the signed manifests beside the pages, and swap the result into place.
// A Builder kept alive rebuilds incrementally, for `sitegen serve`.
package builder

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/history"
	"github.com/projectatomic/atomic-site/internal/lockfile"
	"github.com/projectatomic/atomic-site/internal/metadata"
	"github.com/projectatomic/atomic-site/internal/pages"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/render"
	"github.com/projectatomic/atomic-site/internal/siteindex"
	"github.com/projectatomic/atomic-site/internal/sitemap"
	"github.com/projectatomic/atomic-site/internal/trust"
	"github.com/projectatomic/atomic-site/internal/view"
)

// Options say what to build from. Paths may be relative.
type Options struct {
	History    history.Options
	ProjectDir string // holds site/, templates/, content/
	// HugoLog receives Hugo's warnings.
	HugoLog io.Writer
	// Previous is the site the new one must not roll back: a directory or
	// an http(s) URL. Empty: the output directory, when it holds a site.
	Previous string
	// AllowRollback publishes a rollback anyway, with a warning.
	AllowRollback bool
	// SignKey, when set, signs index.json, valid for ValidFor.
	SignKey  Signer
	ValidFor time.Duration
	// Langs are the pseudo-locales to build (l10n.PseudoTags) besides
	// English and the languages of po/.
	Langs []string
}

// Signer signs the site's index; *trust.Signer is one.
type Signer interface {
	Sign(data []byte) ([]byte, error)
}

// Result says what a build produced.
type Result struct {
	// Streams are the streams built, each with its current build's
	// release ("" when it has none).
	Streams map[string]string
	Pages   int
	// Languages are the site's languages (their tags), English first.
	Languages []string
	// Rendered is how many pages Hugo rendered (each output of a page
	// once): every page on a first build, what the change touched on a
	// rebuild.
	Rendered int
	// Leftovers is how many staging directories of killed builds were
	// removed, and Freed how many bytes they held.
	Leftovers int
	Freed     int64
	// NextChange is the first moment after the build's at which the site
	// changes by time alone (a stream turns stale, a release day passes),
	// and Why says what happens then; zero if nothing will.
	NextChange time.Time
	Why        string
}

// LockPath is the lock beside an output directory.
func LockPath(out string) string {
	return filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".lock")
}

// stagePrefix names the staging directories of out, so that the next build
// recognises what a killed one left.
func stagePrefix(out string) string { return "." + filepath.Base(out) + ".new-" }

// removeLeftovers removes the staging directories beside out that killed
// builds left; only the holder of the lock may call it.
func removeLeftovers(out string) (n int, freed int64) {
	dirs, _ := filepath.Glob(filepath.Join(filepath.Dir(out), stagePrefix(out)+"*"))
	for _, d := range dirs {
		filepath.WalkDir(d, func(_ string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				if fi, err := e.Info(); err == nil {
					freed += fi.Size()
				}
			}
			return nil
		})
		if os.RemoveAll(d) == nil {
			n++
		}
	}
	if n > 0 {
		slog.Info("removed the staging directories of killed builds", "dirs", n, "bytes", freed)
	}
	return n, freed
}

// Builder builds the site; one kept alive rebuilds incrementally.
type Builder struct {
	opts   Options
	pubDir string
	site   *render.Site
	langs  []render.Language // the site's, as Hugo was last started with
	watch  bool
	// history remembers verified files between rebuilds, and pages the
	// build pages made from them.
	history      *history.Loader
	pages        pages.Cache
	outputsCache metadata.Cache
	// prev is what the site published before, for the rollback check.
	prev      *previous
	published map[string]string // manifests in pubDir: path → sha256 and signature
	outputs   map[string][]byte // outputs in pubDir, as last written
	// index is the signed index last published (by this builder, or the
	// site it replaces): the same bytes keep their signature, so that a
	// build that changes nothing publishes nothing new.
	index, indexSig []byte
}

// Build builds the site once into out. Everything is verified first; on
// any error out is left as it was. The new site is written beside out
// and swapped in whole, so a visitor never sees half of it. One build at a
// time holds a lock beside out; holding it, a build removes the staging
// directories that killed builds left.
func Build(ctx context.Context, opts Options, out string) (*Result, error) {
	out = filepath.Clean(out)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	unlock, err := lockfile.Acquire(LockPath(out), "sitegen build")
	if err != nil {
		return nil, err
	}
	defer unlock()
	leftovers, freed := removeLeftovers(out)
	stage, err := os.MkdirTemp(filepath.Dir(out), stagePrefix(out)+"*")
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	defer func() {
		t := time.Now()
		os.RemoveAll(stage)
		slog.Debug("removed the old site", "took", time.Since(t))
	}()
	b, err := New(opts, stage, false)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	if b.prev, err = openPrevious(ctx, opts.Previous, out); err != nil {
		return nil, err
	}
	b.index, _ = os.ReadFile(filepath.Join(out, siteindex.Path))
	b.indexSig, _ = os.ReadFile(filepath.Join(out, siteindex.Path+trust.SigSuffix))
	res, err := b.Rebuild(ctx, nil)
	if err != nil {
		return nil, err
	}
	res.Leftovers, res.Freed = leftovers, freed
	if err := os.Chmod(stage, 0o755); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := swap(stage, out); err != nil {
		return nil, fmt.Errorf("publish %s: %w", out, err)
	}
	slog.Debug("swapped in", "out", out, "took", time.Since(start))
	return res, nil
}

// New prepares a Builder that publishes into pubDir. With watch, the
// Builder can Rebuild again and again, each time rendering only what the
// change touched.
func New(opts Options, pubDir string, watch bool) (*Builder, error) {
	var err error
	if opts.ProjectDir, err = filepath.Abs(opts.ProjectDir); err != nil {
		return nil, err
	}
	if pubDir, err = filepath.Abs(pubDir); err != nil {
		return nil, err
	}
	return &Builder{opts: opts, pubDir: pubDir, watch: watch, history: history.NewLoader(opts.History),
		published: map[string]string{}, outputs: map[string][]byte{}}, nil
}

// Close lets the Builder's Hugo go.
func (b *Builder) Close() error {
	if b.site == nil {
		return nil
	}
	return b.site.Close()
}

// Rebuild verifies, generates and renders. changed names the project files
// (templates, content, assets) that changed since the last build; changed
// manifests need not be named, as every build reads them all. If anything
// fails before rendering (a bad manifest, say), nothing in the publish
// directory is touched.
func (b *Builder) Rebuild(ctx context.Context, changed []string) (*Result, error) {
	// Hugo's own config or ours: start Hugo afresh.
	restart := slices.ContainsFunc(changed, func(p string) bool { return filepath.Ext(p) == ".toml" })
	start := time.Now()
	h, err := b.history.Load(ctx)
	if err != nil {
		return nil, err
	}
	cfg, cat, state := h.Config, h.Catalog, h.State
	slog.Debug("verified manifests", "builds", len(cat.Builds), "took", time.Since(start))
	pageCache, outCache := &b.pages, &b.outputsCache
	if !b.watch {
		// Built once: keep nothing for a next time.
		pageCache, outCache = nil, nil
	}
	// The pages and the outputs are made from the same state, at once.
	var outs []view.File
	outsMade := make(chan error, 1)
	go func() {
		var err error
		outs, err = metadata.Generate(state, cfg, outCache)
		outsMade <- err
	}()
	files, err := pages.Generate(state, cfg, pageCache)
	if oerr := <-outsMade; err == nil {
		err = oerr
	}
	if err != nil {
		return nil, err
	}
	langs, err := languages(b.opts, cfg)
	if err != nil {
		return nil, err
	}
	outs = withLanguageRedirects(outs, langs)
	res := &Result{Streams: map[string]string{}}
	for _, l := range langs {
		res.Languages = append(res.Languages, l.Tag)
	}
	for _, st := range state.Streams {
		res.Streams[st.Name] = ""
		if st.Current != nil {
			res.Streams[st.Name] = st.Current.Release
		}
	}
	res.NextChange, res.Why = nextChange(state, cfg)
	signed, now := cat.Signed(), state.Now
	if !b.watch {
		// Past this point only the signed bytes are needed: let the parsed
		// history go (h, cat and state are not used below) before Hugo
		// takes its share of memory.
		b.history = history.NewLoader(b.opts.History)
	}
	slog.Debug("generated pages", "files", len(files), "outputs", len(outs), "took", time.Since(start))
	next := memPrevious(outs)
	if b.prev != nil {
		if err := checkRollback(b.prev, next); err != nil {
			if !b.opts.AllowRollback {
				return nil, fmt.Errorf("%w\n(--allow-rollback publishes it anyway)", err)
			}
			slog.Warn("publishing a rollback, as --allow-rollback says", "err", err)
		}
	}
	slog.Debug("checked for a rollback", "took", time.Since(start))
	if b.site == nil {
		baseURL := cfg.BaseURL
		b.site, err = render.New(render.Options{
			ProjectDir: b.opts.ProjectDir,
			PublishDir: b.pubDir,
			CacheDir:   hugoCacheDir(),
			BaseURL:    baseURL,
			Watch:      b.watch,
			Log:        b.opts.HugoLog,
			Languages:  langs,
		})
		if err != nil {
			return nil, err
		}
		slog.Debug("loaded hugo", "took", time.Since(start))
	} else if restart || !slices.EqualFunc(langs, b.langs, render.Language.Equal) {
		b.site.Restart(cfg.BaseURL, langs)
	}
	b.langs = langs
	renderStart := time.Now()
	// The manifests and outputs do not depend on Hugo: publish them
	// meanwhile.
	published := make(chan error, 1)
	go func() {
		err := b.publishManifests(signed)
		if err == nil {
			err = b.publishOutputs(outs)
		}
		published <- err
	}()
	err = b.site.Build(ctx, files, changed)
	slog.Debug("rendered", "took", time.Since(renderStart))
	if perr := <-published; err == nil {
		err = perr
	}
	slog.Debug("published manifests and outputs", "took", time.Since(renderStart))
	if err == nil && b.site.Rendered() != 0 { // else the sitemap is as it was
		var parts int
		if parts, err = sitemap.Write(b.pubDir, cfg.BaseURL, b.site.Sitemap(), sitemap.MaxURLs); parts > 1 {
			slog.Info("sitemap split into an index", "files", parts)
		}
		slog.Debug("wrote the sitemap", "took", time.Since(renderStart))
	}
	if err == nil && b.opts.SignKey != nil {
		err = b.writeIndex(now)
	}
	if err != nil {
		return nil, err
	}
	b.prev = next // serve: the next rebuild must not roll this back
	res.Pages, res.Rendered = b.site.Pages(), b.site.Rendered()
	return res, nil
}

// nextChange is when the state judged at state.Now changes by time alone:
// a stream's current build turns stale, or, for a release stream, a
// release day passes (its notices name the next one).
func nextChange(state *release.State, cfg *config.Config) (time.Time, string) {
	var at time.Time
	var why string
	consider := func(t time.Time, what string) {
		if t.After(state.Now) && (at.IsZero() || t.Before(at)) {
			at, why = t, what
		}
	}
	var epoch time.Time
	if e := cfg.Promote.Epoch; e != nil {
		epoch = e.UTC()
	}
	for _, st := range state.Streams {
		if st.Current != nil && !st.Stale {
			consider(st.StaleSince.Add(time.Nanosecond), st.Name+" turns stale")
		}
		if st.CandidateStream != "" {
			_, next, _ := st.ReleaseDays(epoch, state.Now)
			consider(next, "release day of "+st.Name)
		}
	}
	return at, why
}

// Generated is what a build gives Hugo: the generated files and the
// site's languages, with their messages (for make bench's Hugo alone).
func Generated(ctx context.Context, opts Options) ([]view.File, []render.Language, error) {
	h, err := history.Load(ctx, opts.History)
	if err != nil {
		return nil, nil, err
	}
	files, err := pages.Generate(h.State, h.Config, nil)
	if err != nil {
		return nil, nil, err
	}
	langs, err := languages(opts, h.Config)
	return files, langs, err
}

// publishManifests writes every verified file and its signature under
// manifests/, so that visitors and tools can check what the pages were made
// from. It writes the bytes that were verified, not a second read.
func (b *Builder) publishManifests(files []catalog.Signed) error {
	dst := filepath.Join(b.pubDir, "manifests")
	keep := make(map[string]bool, len(files))
	for _, f := range files {
		keep[f.Path] = true
		// A manifest signed again keeps its bytes: its signature is new.
		done := f.SHA256 + " " + string(f.Sig)
		if b.published[f.Path] == done {
			continue
		}
		target := filepath.Join(dst, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		src := filepath.Join(b.opts.History.Manifests, filepath.FromSlash(f.Path))
		// serve writes copies: a link changes the source's ctime, and its
		// loader would read every manifest again at the next rebuild.
		if err := place(src, target, f.Data, !b.watch); err != nil {
			return err
		}
		if err := place(src+trust.SigSuffix, target+trust.SigSuffix, f.Sig, !b.watch); err != nil {
			return err
		}
		b.published[f.Path] = done
	}
	for p := range b.published {
		if !keep[p] {
			target := filepath.Join(dst, filepath.FromSlash(p))
			os.Remove(target)
			os.Remove(target + trust.SigSuffix)
			delete(b.published, p)
		}
	}
	return nil
}

// place puts data, the verified bytes of src, at target. A hard link is
// far cheaper than a new file here, and signed files are replaced by
// rename, never edited in place; still, the link is read back, and if the
// source changed since it was verified, the verified bytes are written.
func place(src, target string, data []byte, link bool) error {
	os.Remove(target)
	if link && os.Link(src, target) == nil {
		if got, err := os.ReadFile(target); err == nil && bytes.Equal(got, data) {
			return nil
		}
		os.Remove(target)
	}
	return os.WriteFile(target, data, 0o644)
}

// publishOutputs writes the outputs that changed since the last build and
// removes those no longer made (links to a build no longer current).
func (b *Builder) publishOutputs(files []view.File) error {
	keep := make(map[string]bool, len(files))
	for _, f := range files {
		keep[f.Path] = true
		if old, ok := b.outputs[f.Path]; ok && bytes.Equal(old, f.Data) {
			continue
		}
		target := filepath.Join(b.pubDir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, f.Data, 0o644); err != nil {
			return err
		}
		if b.watch {
			b.outputs[f.Path] = f.Data
		}
	}
	for p := range b.outputs {
		if !keep[p] {
			os.Remove(filepath.Join(b.pubDir, filepath.FromSlash(p)))
			delete(b.outputs, p)
		}
	}
	return nil
}

func hugoCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "sitegen", "hugo")
}

// writeIndex lists and signs what tools read, once everything is written
// (the CHECKSUM files come from Hugo).
func (b *Builder) writeIndex(now time.Time) error {
	validFor := b.opts.ValidFor
	if validFor <= 0 {
		validFor = DefaultValidFor
	}
	idx, err := siteindex.Make(os.DirFS(b.pubDir), now, validFor)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	data := idx.Marshal()
	sig := b.indexSig
	if own, ok := b.opts.SignKey.(interface{ Signed(data, sig []byte) bool }); !ok || !bytes.Equal(data, b.index) || !own.Signed(data, sig) {
		if sig, err = b.opts.SignKey.Sign(data); err != nil {
			return fmt.Errorf("sign %s: %w", siteindex.Path, err)
		}
	}
	b.index, b.indexSig = data, sig
	if err := os.WriteFile(filepath.Join(b.pubDir, siteindex.Path+trust.SigSuffix), sig, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.pubDir, siteindex.Path), data, 0o644)
}

// DefaultValidFor is how long a signed index stays valid: three days, so
// that a site rebuilt daily never expires, and one nobody rebuilds does.
const DefaultValidFor = 72 * time.Hour
