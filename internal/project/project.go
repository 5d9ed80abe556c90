// Package project finds the files a site is built from: site/ (Hugo's
// config, sitegen.toml, assets, static files), templates/ and content/.
// They are built into sitegen; a directory given with --project replaces
// them, and must hold what a build needs.
package project

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	atomicsite "github.com/projectatomic/atomic-site"
)

// required are what a project directory must hold.
var required = []string{"site/hugo.toml", "templates/baseof.html", "content"}

// Dir returns the project directory to build from: dir itself when given
// (after checking it holds what a build needs), else the built-in files,
// written once to a cache directory named by their digest, so that Hugo
// reads them like any project and an upgraded sitegen never reads an older
// copy.
func Dir(dir string) (string, error) {
	if dir != "" {
		for _, r := range required {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(r))); err != nil {
				return "", fmt.Errorf("--project %s: missing %s (a project holds site/, templates/ and content/; leave --project out to use the built-in ones)", dir, r)
			}
		}
		return filepath.Abs(dir)
	}
	return extract(atomicsite.Project)
}

// Digest names the built-in files: the same files, the same digest.
func Digest() string {
	d, _ := digest(atomicsite.Project)
	return d[:12]
}

func digest(fsys fs.FS) (string, error) {
	h := sha256.New()
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	sort.Strings(paths)
	for _, p := range paths {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", p, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// extract writes fsys to <cache>/sitegen/project-<digest> unless it is
// there already: written beside it and renamed into place, so a reader
// (another sitegen) sees all of it or none.
func extract(fsys fs.FS) (string, error) {
	sum, err := digest(fsys)
	if err != nil {
		return "", err
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	root := filepath.Join(base, "sitegen")
	dir := filepath.Join(root, "project-"+sum[:16])
	if _, err := os.Stat(filepath.Join(dir, "site", "hugo.toml")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("built-in site files: %w", err)
	}
	tmp, err := os.MkdirTemp(root, ".project-*")
	if err != nil {
		return "", fmt.Errorf("built-in site files: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.CopyFS(tmp, fsys); err != nil {
		return "", fmt.Errorf("built-in site files: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "site", "hugo.toml")); serr == nil {
			return dir, nil // another sitegen got there first
		}
		return "", fmt.Errorf("built-in site files: %w", err)
	}
	return dir, nil
}
