// Package history loads the signed release history: the site config, the
// trusted keys, every verified manifest and revocation, and the release
// state they give at a moment. build, serve, verify, announce and the
// tests all load it here, so that nothing is ever made from part of the
// signed history, and the Hugo seam (render) never has to be linked to
// read it.
package history

import (
	"context"
	"path/filepath"
	"time"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// Options say where the history is. Paths may be relative.
type Options struct {
	Manifests string
	Keys      string
	// Config is sitegen.toml; see ConfigPath.
	Config string
	// ConfigOptional makes a missing Config file mean the defaults.
	ConfigOptional bool
	// BaseURL, when set, overrides the config's base-url.
	BaseURL string
	// Now is the time to judge staleness at; zero means Clock, or the
	// system's clock, read at each Load.
	Now   time.Time
	Clock func() time.Time
	// MaxManifestSize caps each manifest file (zero: the default, 1 MiB).
	MaxManifestSize int64
	// Ignore are patterns of names kept beside the manifests (see
	// catalog.Loader).
	Ignore []string
}

// ConfigPath resolves the config file once for every command: an explicit
// --config as given, else config.DefaultPath inside the project directory,
// where a missing file means the defaults.
func ConfigPath(project, flag string, explicit bool) (path string, optional bool) {
	if explicit {
		return flag, false
	}
	return filepath.Join(project, config.DefaultPath), true
}

// History is the verified history and what it means at one moment.
type History struct {
	Config  *config.Config
	Catalog *catalog.Catalog
	State   *release.State
}

// Loader loads the history again and again (for serve), verifying only
// files that changed since the last Load while the trusted keys stay the
// same.
type Loader struct {
	opts        Options
	loader      *catalog.Loader
	fingerprint string
}

// NewLoader returns a Loader for opts.
func NewLoader(opts Options) *Loader { return &Loader{opts: opts} }

// Load verifies every file and computes the state. Any bad file fails it.
func Load(ctx context.Context, opts Options) (*History, error) {
	return NewLoader(opts).Load(ctx)
}

// Load verifies every file and computes the state. Any bad file fails it.
func (l *Loader) Load(ctx context.Context) (*History, error) {
	cfg, err := config.Load(l.opts.Config, l.opts.ConfigOptional)
	if err != nil {
		return nil, err
	}
	if l.opts.BaseURL != "" {
		cfg.BaseURL = l.opts.BaseURL
	}
	kr, err := trust.LoadKeys(l.opts.Keys)
	if err != nil {
		return nil, err
	}
	if fp := kr.Fingerprint(); l.loader == nil || fp != l.fingerprint {
		l.loader, l.fingerprint = catalog.NewLoader(kr), fp
		l.loader.MaxSize = l.opts.MaxManifestSize
		l.loader.Ignore = l.opts.Ignore
	}
	cat, err := l.loader.Load(ctx, l.opts.Manifests)
	if err != nil {
		return nil, err
	}
	now := l.opts.Now
	switch {
	case !now.IsZero():
	case l.opts.Clock != nil:
		now = l.opts.Clock().UTC()
	default:
		now = time.Now().UTC()
	}
	state, err := release.Compute(cat, release.Options{Now: now, Cadence: cfg.Cadence, Streams: cfg.StreamNames()})
	if err != nil {
		return nil, err
	}
	state.Example = example(cat, kr.Holds)
	return &History{Config: cfg, Catalog: cat, State: state}, nil
}
