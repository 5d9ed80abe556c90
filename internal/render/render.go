// Package render builds the site with Hugo, in-process. It is the only
// package that imports Hugo, whose Go API is unversioned: a Hugo upgrade
// should touch this file and nothing else.
package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
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
)

// Options say where everything is. Paths are absolute.
type Options struct {
	// ProjectDir holds site/hugo.toml, site/assets, site/static,
	// templates/ (the layouts) and content/ (hand-written pages).
	ProjectDir string
	// GenDir holds the generated content/ and data/.
	GenDir string
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

// Site is a loaded Hugo site, ready to build and, with Watch, to rebuild.
type Site struct {
	opts Options
	h    *hugolib.HugoSites
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
		flags.Set("internal", map[string]any{"watch": true})
	}
	// The folder layout is this program's contract, not a setting.
	flags.Set("module", map[string]any{"mounts": []map[string]any{
		{"source": "content", "target": "content"},
		{"source": filepath.Join(opts.GenDir, "content"), "target": "content"},
		{"source": filepath.Join(opts.GenDir, "data"), "target": "data"},
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
	afs := afero.NewOsFs()
	res, err := allconfig.LoadConfig(allconfig.ConfigSourceDescriptor{
		Fs:       afs,
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
		Fs:       hugofs.NewFrom(afs, res.LoadingInfo.BaseConfig),
		LogLevel: logger.Level(),
		StdOut:   io.Discard,
		StdErr:   opts.Log,
	})
	if err != nil {
		return nil, fmt.Errorf("hugo: %w", err)
	}
	return &Site{opts: opts, h: h}, nil
}

// Build renders the site into PublishDir and copies site/static over it
// (Hugo's library does not; its command does). changed lists the files
// that changed since the last build, for an incremental rebuild; nil means
// a full build.
func (s *Site) Build(ctx context.Context, changed []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var events []fsnotify.Event
	for _, p := range changed {
		op := fsnotify.Write
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			op = fsnotify.Remove
		}
		events = append(events, fsnotify.Event{Name: p, Op: op})
	}
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
