// Package siteindex is the site's signed, expiring index of what tools
// read: every machine-readable output (stream metadata, update graphs,
// release indexes, feeds, CHECKSUM files, the published manifests) with its
// size and sha256, when the index was made and when it expires. A client or
// a monitor that checks the signature and the expiry can tell a fresh site
// from a frozen copy on a stale CDN node, and a tampered file from a good
// one (TUF's timestamp and snapshot roles, in one file).
package siteindex

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// Path is where the index is, at the site root; its detached signature is
// Path + ".sig", in the manifests' format.
const Path = "index.json"

// Schema identifies the format.
const Schema = "atomic-site-index/v1"

// File is one listed file.
type File struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Index is the site's index.
type Index struct {
	Schema    string          `json:"schema"`
	Generated time.Time       `json:"generated"`
	Expires   time.Time       `json:"expires"`
	Files     map[string]File `json:"files"` // by path from the site root
}

// Listed reports whether a site path is a machine-readable output the
// index covers.
func Listed(p string) bool {
	dir, base := path.Split(p)
	switch {
	case strings.HasPrefix(p, "manifests/"):
		return true
	case dir == "streams/" || dir == "releases/" || dir == "updates/":
		return strings.HasSuffix(base, ".json")
	case strings.HasPrefix(dir, "streams/"):
		return base == "feed.xml" || base == "CHECKSUM"
	}
	return false
}

// Make lists every file of site that Listed covers.
func Make(site fs.FS, generated time.Time, validFor time.Duration) (*Index, error) {
	idx := &Index{Schema: Schema, Generated: generated.UTC(), Expires: generated.Add(validFor).UTC(), Files: map[string]File{}}
	err := fs.WalkDir(site, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !Listed(p) {
			return err
		}
		f, err := site.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		n, err := io.Copy(h, f)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		idx.Files[p] = File{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}
		return nil
	})
	return idx, err
}

// Marshal writes the index, keys in order: the same site gives the same
// bytes.
func (idx *Index) Marshal() []byte {
	data, _ := json.MarshalIndent(idx, "", "  ") // maps marshal in key order
	return append(data, '\n')
}

// Parse reads an index.
func Parse(data []byte) (*Index, error) {
	var idx Index
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&idx); err != nil {
		return nil, fmt.Errorf("%s: %w", Path, err)
	}
	if idx.Schema != Schema {
		return nil, fmt.Errorf("%s: schema %q, want %q", Path, idx.Schema, Schema)
	}
	for p := range idx.Files {
		if !Listed(p) || path.Clean(p) != p || strings.HasPrefix(p, "../") {
			return nil, fmt.Errorf("%s: lists %q, which is not a site output", Path, p)
		}
	}
	return &idx, nil
}

// Paths lists the index's files in order.
func (idx *Index) Paths() []string {
	paths := make([]string, 0, len(idx.Files))
	for p := range idx.Files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths
}

// ErrExpired says the index is past its expiry.
var ErrExpired = errors.New("expired")

// Fresh says whether the index is valid at now.
func (idx *Index) Fresh(now time.Time) error {
	if now.After(idx.Expires) {
		return fmt.Errorf("%s: %w at %s (generated %s): the site is not being rebuilt, or a cache serves an old copy",
			Path, ErrExpired, idx.Expires.Format(time.RFC3339), idx.Generated.Format(time.RFC3339))
	}
	return nil
}

// CheckFile says whether data is the listed file p.
func (idx *Index) CheckFile(p string, data []byte) error {
	want, ok := idx.Files[p]
	if !ok {
		return fmt.Errorf("%s: not listed in %s", p, Path)
	}
	sum := sha256.Sum256(data)
	switch got := hex.EncodeToString(sum[:]); {
	case int64(len(data)) != want.Size:
		return fmt.Errorf("%s: %d bytes, %s says %d", p, len(data), Path, want.Size)
	case got != want.SHA256:
		return fmt.Errorf("%s: sha256 %s, %s says %s", p, got, Path, want.SHA256)
	}
	return nil
}
