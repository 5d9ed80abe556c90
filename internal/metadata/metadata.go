// Package metadata makes what tools read from the site, beside the pages:
// stream metadata, the release index and the update graph in the Fedora
// CoreOS formats, an Atom feed per stream, and stable /latest/ links (Netlify _redirects, with an HTML page for any
// other server). Like pages, it is pure: the same state gives the same
// bytes.
package metadata

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/view"
)

// Generator names what wrote the stream metadata.
const Generator = "atomic-site sitegen"

// Generate returns every output for state. A cache kept between calls
// (serve) saves making again the outputs of streams that did not change;
// nil makes them all.
func Generate(state *release.State, cfg *config.Config, cache *Cache) ([]view.File, error) {
	if cache == nil {
		cache = &Cache{}
	}
	conf, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if string(conf) != cache.conf {
		cache.conf, cache.checksums = string(conf), nil
	}
	next := map[string]streamOutputs{}
	var files []view.File
	var redirects []string
	for _, st := range state.Streams {
		k := streamKey(st, conf)
		out, ok := cache.streams[k]
		if !ok {
			if out, err = makeStream(st, cfg, cache.checksums); err != nil {
				return nil, err
			}
		}
		next[k] = out
		files = append(files, out.files...)
		redirects = append(redirects, out.redirects...)
	}
	cache.streams = next
	cache.checksums = map[string][]byte{}
	for _, out := range next {
		for _, f := range out.files {
			if sum, ok := out.checksums[f.Path]; ok {
				cache.checksums[sum] = f.Data
			}
		}
	}
	header := "# Stable links to the current build's files, made by sitegen.\n"
	files = append(files, view.File{Path: "_redirects", Data: []byte(header + strings.Join(redirects, "\n") + "\n")})
	return files, nil
}

// Cache keeps the outputs of each stream made by the last Generate, under
// what they are made from.
type Cache struct {
	conf    string // the config they were made with, as JSON
	streams map[string]streamOutputs
	// checksums are the CHECKSUM files, by their manifest's sha256: a
	// stream made again makes only its new builds' again.
	checksums map[string][]byte
}

type streamOutputs struct {
	files     []view.File
	redirects []string
	checksums map[string]string // a CHECKSUM file's manifest, by path
}

// streamKey sums everything a stream's outputs are made from: the config,
// the signed bytes of its manifests and revocations, and its staleness.
func streamKey(st *release.Stream, conf []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%t %d\x00", conf, st.Name, st.Stale, st.StaleSince.UnixNano())
	if f := st.Failure; f != nil {
		fmt.Fprintf(h, "failure %s\x00", f.SHA256)
	}
	for _, b := range st.Builds {
		h.Write([]byte(b.SHA256))
		if r := b.Revocation; r != nil {
			h.Write([]byte(r.SHA256))
		}
		h.Write([]byte{0})
	}
	return string(h.Sum(nil))
}

// makeStream makes the outputs of one stream, taking the CHECKSUM files
// of builds whose manifest it has from old.
func makeStream(st *release.Stream, cfg *config.Config, old map[string][]byte) (streamOutputs, error) {
	out := streamOutputs{checksums: map[string]string{}}
	add := func(p string, v any) error {
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		out.files = append(out.files, view.File{Path: p, Data: append(data, '\n')})
		return nil
	}
	if err := add("streams/"+st.Name+".json", StreamMetadata(st, cfg)); err != nil {
		return out, err
	}
	// The same bytes under a name with their digest in it: a client
	// that read the signed index fetches exactly what it signed, even
	// while a CDN serves a mix of old and new files.
	sm := out.files[len(out.files)-1]
	out.files = append(out.files, view.File{Path: DigestPath(st.Name, sm.Data), Data: sm.Data})
	if err := add("releases/"+st.Name+".json", NewReleaseIndex(st, cfg)); err != nil {
		return out, err
	}
	if err := add("updates/"+st.Name+".json", Updates(st)); err != nil {
		return out, err
	}
	feed, err := Feed(st, cfg)
	if err != nil {
		return out, err
	}
	out.files = append(out.files, view.File{Path: "streams/" + st.Name + "/feed.xml", Data: feed})
	links, err := Metalinks(st, cfg)
	if err != nil {
		return out, err
	}
	out.files = append(out.files, links...)
	for _, b := range st.Builds {
		if b.Failed() {
			continue
		}
		data, ok := old[b.SHA256]
		if !ok {
			data = Checksum(b.Build.Build, cfg)
		}
		p := strings.TrimPrefix(view.ChecksumURL(st.Name, b.Release), "/")
		out.files = append(out.files, view.File{Path: p, Data: data})
		out.checksums[p] = b.SHA256
	}
	for _, l := range Latest(st, cfg) {
		// Forced (302!): Netlify applies a rule over a file at the same
		// path only when forced, and the HTML page below is there for
		// other servers; unforced, curl -LO would save the page.
		out.redirects = append(out.redirects, fmt.Sprintf("%s %s 302!", l.From, l.To))
		// Its Metalink twin.
		out.redirects = append(out.redirects, fmt.Sprintf("%s.meta4 %s 302!", l.From, cfg.SiteURL(view.MetalinkURL(st.Name, st.Current.Release, path.Base(l.To)))))
		page, err := redirectPage(l)
		if err != nil {
			return out, err
		}
		out.files = append(out.files, view.File{Path: strings.TrimPrefix(l.From, "/") + "/index.html", Data: page})
	}
	return out, nil
}

// DigestPath is where a stream's metadata is also published, under its
// sha256.
func DigestPath(stream string, data []byte) string {
	sum := sha256.Sum256(data)
	return "streams/" + stream + ".sha256-" + hex.EncodeToString(sum[:]) + ".json"
}

// lastModified is when a stream's published facts last changed: its newest
// build or revocation. Derived from the data, so builds are reproducible.
func lastModified(st *release.Stream) time.Time {
	var t time.Time
	for _, b := range st.Builds {
		if b.Date.After(t) {
			t = b.Date
		}
		if b.Revoked() && b.Revocation.RevokedAt.After(t) {
			t = b.Revocation.RevokedAt
		}
	}
	if t.IsZero() {
		t = time.Unix(0, 0) // no builds yet: a fixed date, not the clock
	}
	return t.UTC()
}
