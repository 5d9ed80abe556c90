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
	"os"
	"path"
	"path/filepath"

	"github.com/bep/logg"
	"github.com/fsnotify/fsnotify"
	"github.com/gohugoio/hugo/common/loggers"
	"github.com/gohugoio/hugo/config"
	"github.com/gohugoio/hugo/config/allconfig"
	"github.com/gohugoio/hugo/deps"
	"github.com/gohugoio/hugo/hugofs"
	"github.com/gohugoio/hugo/hugolib"
	"github.com/spf13/afero"

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
	gen    afero.Fs          // the in-memory layer holding genRoot
	have   map[string][]byte // generated files in gen, by path
	builds int
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
	}
	// The folder layout is this program's contract, not a setting.
	flags.Set("module", map[string]any{"mounts": []map[string]any{
		{"source": "content", "target": "content"},
		{"source": genRoot + "/content", "target": "content"},
		{"source": genRoot + "/data", "target": "data"},
		{"source": "templates", "target": "layouts"},
		{"source": "site/assets", "target": "assets"},
	}})
	logger := loggers.New(loggers.Options{
		Level: logg.LevelWarn,
		// Hugo's chatter ("Source changed …") goes to its stdout.
		StdOut:        io.Discard,
		StdErr:        opts.Log,
		DistinctLevel: logg.LevelWarn,
	})
	gen := afero.NewMemMapFs()
	for _, d := range []string{"content", "data"} {
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
		Configs:  res,
		Fs:       hugofs.NewFromSourceAndDestination(src, afs, res.LoadingInfo.Cfg),
		LogLevel: logger.Level(),
		StdOut:   io.Discard,
		StdErr:   opts.Log,
	})
	if err != nil {
		return nil, fmt.Errorf("hugo: %w", err)
	}
	return &Site{opts: opts, h: h, gen: gen, have: map[string][]byte{}}, nil
}

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
	for _, f := range generated {
		p := genRoot + "/" + f.Path
		keep[p] = true
		old, ok := s.have[p]
		if ok && bytes.Equal(old, f.Data) {
			continue
		}
		if err := s.gen.MkdirAll(path.Dir(p), 0o755); err != nil {
			return err
		}
		if err := afero.WriteFile(s.gen, p, f.Data, 0o644); err != nil {
			return err
		}
		s.have[p] = f.Data
		op := fsnotify.Write
		if !ok {
			op = fsnotify.Create
		}
		events = append(events, fsnotify.Event{Name: p, Op: op})
	}
	for p := range s.have {
		if !keep[p] {
			s.gen.Remove(p)
			delete(s.have, p)
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
	if first {
		events = nil
	}
	s.builds++
	if err := s.h.Build(hugolib.BuildCfg{NoBuildLock: true}, events...); err != nil {
		return fmt.Errorf("hugo: %w", err)
	}
	return copyStatic(filepath.Join(s.opts.ProjectDir, "site", "static"), s.opts.PublishDir)
}

// Pages is how many pages the last build rendered.
func (s *Site) Pages() int {
	n := 0
	for _, site := range s.h.Sites {
		n += len(site.Pages())
	}
	return n
}

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
