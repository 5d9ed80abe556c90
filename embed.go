// Package atomicsite holds the site's own files, embedded in the sitegen
// binary, so that an installed sitegen builds the site from any directory:
// site/ (Hugo's config, sitegen.toml, assets), templates/, content/ and
// po/ (the translations).
package atomicsite

import "embed"

// Project is the project's site/, templates/, content/ and po/.
//
//go:embed all:site all:templates all:content all:po
var Project embed.FS
