// Package builder runs the whole site build: verify the manifests, decide
// the release state, generate the pages' data, render with Hugo, publish
// the signed manifests beside the pages, and swap the result into place.
// A Builder kept alive rebuilds incrementally, for `sitegen serve`.
package builder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/pages"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/render"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// Options say what to build from. Paths may be relative.
type Options struct {
	ProjectDir string // holds site/, templates/, content/
	Manifests  string
	Keys       string
	Config     string // sitegen.toml
	// ConfigOptional makes a missing Config file mean the defaults.
	ConfigOptional bool
	BaseURL        string // overrides the config's base-url
	// Now is the time to judge staleness at; zero means the clock, read at
	// each build.
	Now time.Time
	// HugoLog receives Hugo's warnings.
	HugoLog io.Writer
}

// Result says what a build produced.
type Result struct {
	State *release.State
	Pages int
	// Timings of the phases, for benchmarks and logs.
	Load, Render time.Duration
}

// Builder builds the site; one kept alive rebuilds incrementally.
type Builder struct {
	opts    Options
	genDir  string
	pubDir  string
	site    *render.Site
	written map[string][]byte // generated files as last written
	watch   bool
}

// Build builds the site once into out. Everything is verified first; on
// any error out is left as it was. The new site is written beside out
// and swapped in whole, so a visitor never sees half of it.
func Build(ctx context.Context, opts Options, out string) (*Result, error) {
	out = filepath.Clean(out)
	stage, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".new-*")
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	defer os.RemoveAll(stage)
	b, err := New(opts, stage, false)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	res, err := b.Rebuild(ctx, nil)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(stage, 0o755); err != nil {
		return nil, err
	}
	if err := swap(stage, out); err != nil {
		return nil, fmt.Errorf("publish %s: %w", out, err)
	}
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
	gen, err := os.MkdirTemp("", "sitegen-gen-*")
	if err != nil {
		return nil, err
	}
	b := &Builder{opts: opts, genDir: gen, pubDir: pubDir, written: map[string][]byte{}}
	for _, d := range []string{"content", "data"} {
		if err := os.MkdirAll(filepath.Join(gen, d), 0o755); err != nil {
			b.Close()
			return nil, err
		}
	}
	b.watch = watch
	return b, nil
}

// Close removes the Builder's generated files.
func (b *Builder) Close() error { return os.RemoveAll(b.genDir) }

// Rebuild verifies, generates and renders. changed names the project files
// (templates, content, assets) that changed since the last build; changed
// manifests need not be named, as every build reads them all. If anything
// fails before rendering (a bad manifest, say), nothing in the publish
// directory is touched.
func (b *Builder) Rebuild(ctx context.Context, changed []string) (*Result, error) {
	for _, p := range changed {
		if filepath.Ext(p) == ".toml" {
			// Hugo's own config or ours: start Hugo afresh.
			b.site = nil
		}
	}
	start := time.Now()
	cfg, cat, state, err := b.load(ctx)
	if err != nil {
		return nil, err
	}
	files, err := pages.Generate(state, cfg)
	if err != nil {
		return nil, err
	}
	gen, err := b.writeGenerated(files)
	if err != nil {
		return nil, err
	}
	changed = append(gen, changed...)
	loaded := time.Since(start)
	if b.site == nil {
		baseURL := cfg.BaseURL
		if b.opts.BaseURL != "" {
			baseURL = b.opts.BaseURL
		}
		b.site, err = render.New(render.Options{
			ProjectDir: b.opts.ProjectDir,
			GenDir:     b.genDir,
			PublishDir: b.pubDir,
			CacheDir:   hugoCacheDir(),
			BaseURL:    baseURL,
			Watch:      b.watch,
			Log:        b.opts.HugoLog,
		})
		if err != nil {
			return nil, err
		}
		changed = nil // the first build is a full one
	}
	renderStart := time.Now()
	if err := b.site.Build(ctx, changed); err != nil {
		return nil, err
	}
	if err := publishManifests(cat, filepath.Join(b.pubDir, "manifests")); err != nil {
		return nil, err
	}
	return &Result{State: state, Pages: b.site.Pages(), Load: loaded, Render: time.Since(renderStart)}, nil
}

func (b *Builder) load(ctx context.Context) (*config.Config, *catalog.Catalog, *release.State, error) {
	cfg, err := config.Load(b.opts.Config, b.opts.ConfigOptional)
	if err != nil {
		return nil, nil, nil, err
	}
	kr, err := trust.LoadKeys(b.opts.Keys)
	if err != nil {
		return nil, nil, nil, err
	}
	cat, err := catalog.Load(ctx, b.opts.Manifests, kr)
	if err != nil {
		return nil, nil, nil, err
	}
	now := b.opts.Now
	if now.IsZero() {
		now = time.Now().UTC()
	}
	state, err := release.Compute(cat, release.Options{Now: now, Cadence: cfg.Cadence, Streams: cfg.StreamNames()})
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, cat, state, nil
}

// writeGenerated writes the files that differ from what is there, removes
// those no longer generated, and returns the paths it touched.
func (b *Builder) writeGenerated(files []pages.File) ([]string, error) {
	var changed []string
	keep := make(map[string]bool, len(files))
	for _, f := range files {
		p := filepath.Join(b.genDir, filepath.FromSlash(f.Path))
		keep[p] = true
		if old, ok := b.written[p]; ok && bytes.Equal(old, f.Data) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return nil, err
		}
		b.written[p] = f.Data
		changed = append(changed, p)
	}
	for p := range b.written {
		if !keep[p] {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
			delete(b.written, p)
			changed = append(changed, p)
		}
	}
	return changed, nil
}

// publishManifests copies every verified file and its signature, so that
// visitors and tools can check what the pages were made from.
func publishManifests(cat *catalog.Catalog, dst string) error {
	var paths []string
	for _, b := range cat.Builds {
		paths = append(paths, b.Path)
	}
	for _, r := range cat.Revocations {
		paths = append(paths, r.Path)
	}
	for _, rel := range paths {
		for _, name := range []string{rel, rel + trust.SigSuffix} {
			src := filepath.Join(cat.Dir, filepath.FromSlash(name))
			data, err := os.ReadFile(src)
			if err != nil {
				return err
			}
			target := filepath.Join(dst, filepath.FromSlash(name))
			if old, err := os.ReadFile(target); err == nil && bytes.Equal(old, data) {
				continue
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(target, data, 0o644); err != nil {
				return err
			}
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
