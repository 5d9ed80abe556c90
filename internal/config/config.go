// Package config reads site/sitegen.toml: the streams the site shows, their
// titles and cadences, and defaults for sitegen's flags.
package config

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/projectatomic/atomic-site/internal/metalink"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/tomlfile"
)

// DefaultPath is where sitegen looks for its config, relative to the
// working directory.
const DefaultPath = "site/sitegen.toml"

// Config is sitegen's configuration.
type Config struct {
	Title   string `toml:"title"`
	BaseURL string `toml:"base-url"`
	// DownloadsURL is where the manifests' stream directories are served
	// from: a relative artifact location resolves against
	// DownloadsURL/<stream>/.
	DownloadsURL string `toml:"downloads-url"`
	// OSTreeRemote names the remote in the rpm-ostree rebase line.
	OSTreeRemote string `toml:"ostree-remote"`
	// Architectures orders a build's architectures wherever the site
	// lists them, the primary one first; others follow by name.
	Architectures  []string `toml:"architectures"`
	DefaultCadence Duration `toml:"default-cadence"`
	// AnnounceFrom and AnnounceTo address release announcements.
	AnnounceFrom string   `toml:"announce-from"`
	AnnounceTo   string   `toml:"announce-to"`
	Docs         []Link   `toml:"docs"`
	Streams      []Stream `toml:"streams"`
	// Mirrors copy DownloadsURL: each download's Metalink lists them.
	Mirrors []metalink.Mirror `toml:"mirrors"`
	Promote Promote           `toml:"promote"`
}

// Promote configures the two-week release (sitegen promote).
type Promote struct {
	// Epoch is the first release day; release days follow every cadence
	// of the release stream. Unset: the release stream's first release.
	Epoch *time.Time `toml:"epoch"`
	// StalePolicy says what happens after a release day on which no build
	// qualified: "next-good" promotes the first build that passes, as
	// soon as a daily run sees it; "skip" waits for the next release day.
	StalePolicy string `toml:"stale-policy"`
	// WithdrawnPolicy says what follows a withdrawn release: "next-good"
	// promotes the newest good candidate newer than the fallback at the
	// next daily run; "wait" keeps to the release days.
	WithdrawnPolicy string `toml:"withdrawn-policy"`
}

// The stale and withdrawn policies.
const (
	NextGood = "next-good"
	Skip     = "skip"
	Wait     = "wait"
)

// Stream configures one stream. Streams not listed are shown after the
// listed ones with default settings.
type Stream struct {
	Name        string   `toml:"name"`
	Title       string   `toml:"title"`
	Description string   `toml:"description"`
	Cadence     Duration `toml:"cadence"`
}

// Link is a titled link, such as a documentation site.
type Link struct {
	Title string `toml:"title" json:"title"`
	URL   string `toml:"url" json:"url"`
}

// Duration is a time.Duration written as "14d", "36h" or "90m".
type Duration time.Duration

// UnmarshalText parses "Nd" as N days, anything else as time.ParseDuration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// MarshalText writes days where the duration is a whole number of them.
func (d Duration) MarshalText() ([]byte, error) { return []byte(FormatDuration(time.Duration(d))), nil }

// ParseDuration parses "14d" as 14 days and other forms as time.ParseDuration.
func ParseDuration(s string) (time.Duration, error) {
	var v time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseUint(n, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q: want days like 14d, or hours like 36h", s)
		}
		v = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if v, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("bad duration %q: want days like 14d, or hours like 36h", s)
		}
	}
	if v <= 0 {
		return 0, fmt.Errorf("bad duration %q: must be positive", s)
	}
	return v, nil
}

// FormatDuration writes whole days as "Nd".
func FormatDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

// Default is the configuration used when there is no file.
func Default() *Config {
	return &Config{
		Title:          "Fedora Atomic Host",
		DefaultCadence: Duration(release.DefaultCadence),
		Architectures:  []string{"x86_64", "aarch64", "ppc64le", "s390x"},
		OSTreeRemote:   "fedora-atomic",
		AnnounceFrom:   "Fedora Atomic Host release pipeline <atomic-devel@lists.projectatomic.io>",
		AnnounceTo:     "atomic-announce@lists.projectatomic.io",
		Promote:        Promote{StalePolicy: NextGood, WithdrawnPolicy: NextGood},
	}
}

// Load reads a config file. With optional set, a missing file yields the
// defaults instead of an error.
func Load(path string, optional bool) (*Config, error) {
	data, err := os.ReadFile(path)
	if optional && errors.Is(err, os.ErrNotExist) {
		return Default(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse reads a config from data; path names it in errors. Unknown keys are
// errors, so a misspelled setting is not silently ignored.
func Parse(path string, data []byte) (*Config, error) {
	c := Default()
	if err := tomlfile.Decode(path, data, c); err != nil {
		return nil, err
	}
	switch c.Promote.StalePolicy {
	case NextGood, Skip:
	default:
		return nil, fmt.Errorf("%s: promote.stale-policy: %q is not %q or %q", path, c.Promote.StalePolicy, NextGood, Skip)
	}
	switch c.Promote.WithdrawnPolicy {
	case NextGood, Wait:
	default:
		return nil, fmt.Errorf("%s: promote.withdrawn-policy: %q is not %q or %q", path, c.Promote.WithdrawnPolicy, NextGood, Wait)
	}
	for _, u := range []struct{ key, val string }{{"base-url", c.BaseURL}, {"downloads-url", c.DownloadsURL}} {
		if u.val != "" && !strings.HasPrefix(u.val, "https://") && !strings.HasPrefix(u.val, "http://") {
			return nil, fmt.Errorf("%s: %s: %q is not an http(s) URL", path, u.key, u.val)
		}
	}
	for i, l := range c.Docs {
		if l.Title == "" || !strings.HasPrefix(l.URL, "http") {
			return nil, fmt.Errorf("%s: docs[%d]: needs a title and an http(s) url", path, i)
		}
	}
	seen := map[string]bool{}
	for i, s := range c.Streams {
		if s.Name == "" {
			return nil, fmt.Errorf("%s: streams[%d]: name is required", path, i)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("%s: stream %q is listed twice", path, s.Name)
		}
		seen[s.Name] = true
	}
	return c, nil
}

// Stream returns the settings of a stream, defaults filled in: the
// default cadence, and the stream's name as its title.
func (c *Config) Stream(name string) Stream {
	s := Stream{Name: name}
	for _, cs := range c.Streams {
		if cs.Name == name {
			s = cs
		}
	}
	if s.Cadence == 0 {
		s.Cadence = c.DefaultCadence
	}
	if s.Title == "" {
		s.Title = name
	}
	return s
}

// ArtifactURL makes a manifest location absolute: a relative one is
// relative to the stream's directory under downloads-url (or, without
// one, under /downloads/ on the site).
func (c *Config) ArtifactURL(stream, loc string) string {
	if strings.Contains(loc, "://") {
		return loc
	}
	base := strings.TrimSuffix(c.DownloadsURL, "/")
	if base == "" {
		return "/" + path.Join("downloads", stream, loc)
	}
	return base + "/" + path.Join(stream, loc)
}

// SiteURL joins the site's base URL and an absolute path.
func (c *Config) SiteURL(p string) string {
	return strings.TrimSuffix(c.BaseURL, "/") + p
}

// SortArches orders architecture names as the site lists them: the
// configured ones first, in config order, then the rest by name.
func (c *Config) SortArches(names []string) {
	rank := func(n string) int {
		if i := slices.Index(c.Architectures, n); i >= 0 {
			return i
		}
		return len(c.Architectures)
	}
	slices.SortStableFunc(names, func(a, b string) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
}

// StreamNames lists the configured streams, in order.
func (c *Config) StreamNames() []string {
	names := make([]string, len(c.Streams))
	for i, s := range c.Streams {
		names[i] = s.Name
	}
	return names
}

// Cadence returns a stream's cadence, for release.Compute.
func (c *Config) Cadence(stream string) time.Duration {
	return time.Duration(c.Stream(stream).Cadence)
}
