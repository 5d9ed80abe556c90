// Package rollback stops a site from going back in time without a signed
// reason. Signatures stop anyone without a key from adding a build, but
// whoever can write to the manifests directory can still delete files:
// remove the newest manifests and an older build becomes current; remove
// a revocation and a withdrawn build comes back (TUF's rollback and freeze
// attacks). So before publishing, the new site's metadata is compared with
// what the previous site published: its release index, update graph and
// stream metadata, read from a directory, a URL or memory.
package rollback

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	fcosrelease "github.com/coreos/stream-metadata-go/release"
	fcosstream "github.com/coreos/stream-metadata-go/stream"

	"github.com/projectatomic/atomic-site/internal/metadata"
)

// ErrRollback marks a build refused because it would roll a stream back.
var ErrRollback = errors.New("rollback")

// Stream is what a site published of one stream.
type Stream struct {
	Releases     []string        // every released build, oldest first (the release index)
	Deadends     map[string]bool // revoked builds (the update graph)
	LastModified time.Time       // the stream metadata's
	Current      string          // the release the stream metadata offers; "" for none
}

// Published is what a site published, by stream.
type Published map[string]*Stream

// ReleasesDir holds a site's release indexes, releases/<stream>.json.
const ReleasesDir = "releases/"

// Judged reports whether Read may read the site's file p: a stream's
// release index, update graph or stream metadata
// (releases/, updates/, streams/<stream>.json).
func Judged(p string) bool {
	dir, file := path.Split(p)
	return (dir == ReleasesDir || dir == "updates/" || dir == "streams/") && strings.HasSuffix(file, ".json")
}

// Paths are the files a stream is judged from: its release index, update
// graph and stream metadata.
func Paths(stream string) [3]string {
	return [3]string{ReleasesDir + stream + ".json", "updates/" + stream + ".json", "streams/" + stream + ".json"}
}

// Read reads what a site published through read, which returns an error
// wrapping fs.ErrNotExist for a file the site does not have. streams names
// the streams to look for; a stream without a release index was never
// published.
func Read(read func(p string) ([]byte, error), streams []string) (Published, error) {
	p := Published{}
	for _, name := range streams {
		paths := Paths(name)
		idx, err := read(paths[0])
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		st := &Stream{Deadends: map[string]bool{}}
		var index fcosrelease.Index
		if err := json.Unmarshal(idx, &index); err != nil {
			return nil, fmt.Errorf("releases/%s.json: %w", name, err)
		}
		for _, r := range index.Releases {
			st.Releases = append(st.Releases, r.Version)
		}
		if data, err := read(paths[1]); err == nil {
			var g metadata.UpdateGraph
			if err := json.Unmarshal(data, &g); err != nil {
				return nil, fmt.Errorf("updates/%s.json: %w", name, err)
			}
			for _, r := range g.Releases {
				if r.Metadata.Deadend != nil {
					st.Deadends[r.Version] = true
				}
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if data, err := read(paths[2]); err == nil {
			var sm fcosstream.Stream
			if err := json.Unmarshal(data, &sm); err != nil {
				return nil, fmt.Errorf("streams/%s.json: %w", name, err)
			}
			if st.LastModified, err = time.Parse(time.RFC3339, sm.Metadata.LastModified); err != nil {
				return nil, fmt.Errorf("streams/%s.json: metadata.last-modified: %w", name, err)
			}
			for _, a := range sm.Architectures {
				for _, pa := range a.Artifacts {
					st.Current = pa.Release
				}
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		p[name] = st
	}
	return p, nil
}

// Streams lists the streams of a site from its paths (releases/S.json).
func Streams(paths []string) []string {
	var names []string
	for _, p := range paths {
		if dir, file := path.Split(p); dir == ReleasesDir && strings.HasSuffix(file, ".json") {
			names = append(names, strings.TrimSuffix(file, ".json"))
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Check says how next would roll back what prev published, one line per
// stream and build: a published build gone without a revocation, a
// revocation gone, last-modified going backward, or the current build
// going back to an older one without a revocation that explains it.
func Check(prev, next Published) error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrRollback}, args...)...))
	}
	names := make([]string, 0, len(prev))
	for name := range prev {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		old, now := prev[name], next[name]
		if now == nil {
			now = &Stream{Deadends: map[string]bool{}}
		}
		for _, r := range old.Releases {
			if !slices.Contains(now.Releases, r) {
				fail("stream %s: build %s was published, and its manifest is gone without a revocation", name, r)
			}
		}
		for r := range old.Deadends {
			if !now.Deadends[r] && slices.Contains(now.Releases, r) {
				fail("stream %s: the revocation of %s is gone: the withdrawn build would come back", name, r)
			}
		}
		if now.LastModified.Before(old.LastModified) {
			fail("stream %s: last-modified would go back from %s to %s", name,
				old.LastModified.UTC().Format(time.RFC3339), now.LastModified.UTC().Format(time.RFC3339))
		}
		if old.Current != "" && now.Current != old.Current && !now.Deadends[old.Current] {
			was, is := slices.Index(now.Releases, old.Current), slices.Index(now.Releases, now.Current)
			if was < 0 || is < was || now.Current == "" { // gone, or older: the index is oldest first
				to := now.Current
				if to == "" {
					to = "nothing"
				}
				fail("stream %s: the current build would go back from %s to %s without a revocation of %s", name, old.Current, to, old.Current)
			}
		}
	}
	return errors.Join(errs...)
}
