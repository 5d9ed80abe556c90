package builder

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

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
}

// openPrevious opens what Options.Previous names, or out when it holds a
// site; nil when there is nothing to compare with (a first build).
func openPrevious(ctx context.Context, prev, out string) (*previous, error) {
	if prev == "" {
		if _, err := os.Stat(filepath.Join(out, "releases")); err != nil {
			return nil, nil
		}
		prev = out
	}
	if strings.HasPrefix(prev, "https://") || strings.HasPrefix(prev, "http://") {
		return urlPrevious(ctx, prev)
	}
	fi, err := os.Stat(prev)
	if err != nil {
		return nil, fmt.Errorf("--previous: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("--previous %s: not a directory or an http(s) URL", prev)
	}
	paths, _ := filepath.Glob(filepath.Join(prev, "releases", "*.json"))
	for i, p := range paths {
		paths[i] = "releases/" + filepath.Base(p)
	}
	return &previous{
		name:    prev,
		read:    func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(prev, filepath.FromSlash(p))) },
		streams: rollback.Streams(paths),
	}, nil
}

// urlPrevious reads a deployed site. Its streams come from its index.json
// where it has one, and from the new site's.
func urlPrevious(ctx context.Context, base string) (*previous, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	base = strings.TrimSuffix(base, "/") + "/"
	read := func(p string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+p, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("--previous: %w", err)
		}
		defer resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusNotFound:
			return nil, fmt.Errorf("%s%s: %w", base, p, fs.ErrNotExist)
		case resp.StatusCode != http.StatusOK:
			return nil, fmt.Errorf("--previous: %s%s: %s", base, p, resp.Status)
		}
		return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	}
	prev := &previous{name: base, read: read}
	if data, err := read(siteindex.Path); err == nil {
		idx, err := siteindex.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("--previous: %s: %w", base, err)
		}
		prev.streams = rollback.Streams(idx.Paths())
	}
	return prev, nil
}

// memPrevious is the metadata a Builder last published.
func memPrevious(files []view.File) *previous {
	m := map[string][]byte{}
	var paths []string
	for _, f := range files {
		m[f.Path] = f.Data
		paths = append(paths, f.Path)
	}
	return &previous{
		name: "the last build",
		read: func(p string) ([]byte, error) {
			if d, ok := m[p]; ok {
				return d, nil
			}
			return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
		},
		streams: rollback.Streams(paths),
	}
}

// checkRollback compares what prev published with what outs would.
func checkRollback(prev *previous, outs []view.File) error {
	next := memPrevious(outs)
	streams := append(append([]string{}, prev.streams...), next.streams...)
	old, err := rollback.Read(prev.read, rollback.Streams(prefixed(streams)))
	if err != nil {
		return fmt.Errorf("read the previous site (%s): %w", prev.name, err)
	}
	now, err := rollback.Read(next.read, next.streams)
	if err != nil {
		return err
	}
	return rollback.Check(old, now)
}

func prefixed(streams []string) []string {
	out := make([]string, len(streams))
	for i, s := range streams {
		out[i] = path.Join("releases", s+".json")
	}
	return out
}
