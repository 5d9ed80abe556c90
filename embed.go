// Package atomicsite holds the site's own files, embedded in the sitegen
// binary, so that an installed sitegen builds the site from any directory:
// site/ (Hugo's config, sitegen.toml, assets), templates/ and content/.
package atomicsite

import "embed"

// Project is the project's site/, templates/ and content/.
//
//go:embed all:site all:templates all:content
var Project embed.FS
