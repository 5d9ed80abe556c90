// Package netlify reads netlify.toml: the site's deploy settings and the
// headers it is served with, so that tests can hold the local server to the
// same headers as production.
package netlify

import (
	"fmt"
	"os"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Config is the part of netlify.toml this project writes.
type Config struct {
	Build struct {
		Command     string            `toml:"command"`
		Publish     string            `toml:"publish"`
		Environment map[string]string `toml:"environment"`
	} `toml:"build"`
	Headers []Rule `toml:"headers"`
}

// Rule sets headers on the paths its pattern matches.
type Rule struct {
	For    string            `toml:"for"`
	Values map[string]string `toml:"values"`
}

// Load reads a netlify.toml.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	if err := toml.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// Match reports whether a Netlify path pattern (a trailing /* matches
// everything below) matches p.
func Match(pattern, p string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(p, prefix)
	}
	return pattern == p
}

// HeadersFor returns the headers served at p: every matching rule, with the
// values of a header that several rules set joined by ", ", as Netlify
// joins them.
func (c *Config) HeadersFor(p string) map[string][]string {
	h := map[string][]string{}
	for _, r := range c.Headers {
		if Match(r.For, p) {
			for k, v := range r.Values {
				h[k] = append(h[k], v)
			}
		}
	}
	return h
}
