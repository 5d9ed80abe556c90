package builder

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/projectatomic/atomic-site/internal/rollback"
	"github.com/projectatomic/atomic-site/internal/siteindex"
	"github.com/projectatomic/atomic-site/internal/view"
)

// previous is where the previous site's metadata is read from: a
// directory, a URL, or the files a Builder last published.
type previous struct {
	name    string
	read    func(p string) ([]byte, error)
	streams []string // known before reading; the new site's are added
	// files are the metadata, when a Builder made them.
	files map[string][]byte
	// published is what rollback.Read made of them, once read: a
	// Builder's next rebuild reads again only the streams that changed.
	published rollback.Published
}

// openPrevious opens what Options.Previous names, or out when it holds a
// site; nil when there is nothing to compare with (a first build). The
// previous site's streams are those of its release indexes: listed in a
// directory, or named by a deployed site's index.json (the new site's are
// added in any case).
func openPrevious(ctx context.Context, prev, out string) (*previous, error) {
	if prev == "" {
		if _, err := os.Stat(filepath.Join(out, "releases")); err != nil {
			return nil, nil
		}
		prev = out
	}
	read, err := siteindex.Open(ctx, prev)
	if err != nil {
		return nil, fmt.Errorf("--previous: %w", err)
	}
	p := &previous{name: prev, read: read}
	if paths, _ := filepath.Glob(filepath.Join(prev, "releases", "*.json")); len(paths) > 0 {
		for _, f := range paths {
			p.streams = append(p.streams, strings.TrimSuffix(filepath.Base(f), ".json"))
		}
	} else if data, err := read(siteindex.Path); err == nil {
		idx, err := siteindex.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("--previous %s: %w", prev, err)
		}
		p.streams = rollback.Streams(idx.Paths())
	}
	return p, nil
}

// memPrevious is the metadata a Builder last published: the files a
// rollback is judged from.
func memPrevious(files []view.File) *previous {
	m := map[string][]byte{}
	var paths []string
	for _, f := range files {
		if !rollback.Judged(f.Path) {
			continue
		}
		m[f.Path] = f.Data
		paths = append(paths, f.Path)
	}
	return &previous{
		files: m,
		name:  "the last build",
		read: func(p string) ([]byte, error) {
			if d, ok := m[p]; ok {
				return d, nil
			}
			return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
		},
		streams: rollback.Streams(paths),
	}
}

// checkRollback compares what prev published with what next would.
func checkRollback(prev, next *previous) error {
	if sameJudged(prev, next) {
		next.published = prev.published
		return nil // serve, and nothing a rollback is judged by changed
	}
	old := prev.published
	if old == nil {
		streams := append(slices.Clone(prev.streams), next.streams...)
		slices.Sort(streams)
		var err error
		if old, err = rollback.Read(prev.read, slices.Compact(streams)); err != nil {
			return fmt.Errorf("read the previous site (%s): %w", prev.name, err)
		}
	}
	now := rollback.Published{}
	var changed []string
	for _, name := range next.streams {
		if st, ok := old[name]; ok && sameStream(prev, next, name) {
			now[name] = st
		} else {
			changed = append(changed, name)
		}
	}
	read, err := rollback.Read(next.read, changed)
	if err != nil {
		return err
	}
	maps.Copy(now, read)
	next.published = now
	return rollback.Check(old, now)
}

// sameStream reports whether prev and next, both made by a Builder, have
// the same files stream is judged from.
func sameStream(prev, next *previous, stream string) bool {
	if prev.files == nil || next.files == nil {
		return false
	}
	for _, p := range rollback.Paths(stream) {
		a, inPrev := prev.files[p]
		b, inNext := next.files[p]
		if inPrev != inNext || !bytes.Equal(a, b) {
			return false
		}
	}
	return true
}

// sameJudged reports whether prev and next, both made by a Builder, have
// the same files a rollback is judged from.
func sameJudged(prev, next *previous) bool {
	if prev.files == nil || next.files == nil {
		return false
	}
	for _, m := range []map[string][]byte{prev.files, next.files} {
		for p := range m {
			if !bytes.Equal(prev.files[p], next.files[p]) {
				return false
			}
		}
	}
	return true
}
