// Package metadata makes what tools read from the site, beside the pages:
// stream metadata, the release index and the update graph in the Fedora
// CoreOS formats, an Atom feed per stream, and stable /latest/ links (Netlify _redirects, with an HTML page for any
// other server). Like pages, it is pure: the same state gives the same
// bytes.
package metadata

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	fcosrelease "github.com/coreos/stream-metadata-go/release"
	fcosstream "github.com/coreos/stream-metadata-go/stream"

	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/metalink"
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

// Checksum is a build's CHECKSUM file, in Fedora's format, for
// sha256sum -c: each file once, with its size where the manifest gives it.
func Checksum(b *manifest.Build, cfg *config.Config) []byte {
	var buf []byte
	for _, l := range view.ChecksumLines(b, cfg) {
		if l.Bytes != "" {
			buf = fmt.Appendf(buf, "# %s: %s bytes\n", l.Name, l.Bytes)
		}
		buf = fmt.Appendf(buf, "SHA256 (%s) = %s\n", l.Name, l.SHA256)
	}
	return slices.Clone(buf) // kept until written: without spare capacity
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
	if err := add("releases/"+st.Name+".json", ReleaseIndex(st, cfg)); err != nil {
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

// Metalinks are the Metalink files (RFC 5854) of every file of the builds
// of st that view.HasMetalinks names: size, sha256, and every mirror's URL.
func Metalinks(st *release.Stream, cfg *config.Config) ([]view.File, error) {
	var files []view.File
	for _, b := range st.Builds {
		if !view.HasMetalinks(st, b) {
			continue
		}
		seen := map[string]bool{}
		for f := range b.Files() {
			url := cfg.ArtifactURL(st.Name, f.Location)
			name := path.Base(url)
			if seen[name] {
				continue // one file, listed under two platforms
			}
			seen[name] = true
			var size int64
			if f.Size != nil {
				size = *f.Size
			}
			data, err := metalink.Write(name, size, f.SHA256, metalink.URLs(url, cfg.DownloadsURL, cfg.Mirrors))
			if err != nil {
				return nil, fmt.Errorf("%s/%s: %w", st.Name, b.Release, err)
			}
			files = append(files, view.File{Path: strings.TrimPrefix(view.MetalinkURL(st.Name, b.Release, name), "/"), Data: data})
		}
	}
	return files, nil
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

// StreamMetadata describes the stream's current build, in Fedora CoreOS's
// stream metadata format (its own Go types). A stream with nothing to
// offer has no architectures.
func StreamMetadata(st *release.Stream, cfg *config.Config) fcosstream.Stream {
	s := fcosstream.Stream{
		Stream:        st.Name,
		Metadata:      fcosstream.Metadata{LastModified: lastModified(st).Format(time.RFC3339), Generator: Generator},
		Architectures: map[string]fcosstream.Arch{},
	}
	cur := st.Current
	if cur == nil {
		return s
	}
	for name, a := range cur.Architectures {
		arch := fcosstream.Arch{Artifacts: map[string]fcosstream.PlatformArtifacts{}}
		for pname, p := range a.Media {
			if pname == "aws" && len(p.Images) > 0 {
				regions := map[string]fcosstream.SingleImage{}
				for r, img := range p.Images {
					regions[r] = fcosstream.SingleImage{Release: cur.Release, Image: img.Image}
				}
				arch.Images.Aws = &fcosstream.AwsImage{Regions: regions}
			}
			if pname == "gcp" && len(p.Image) > 0 {
				var g fcosstream.GcpImage
				if json.Unmarshal(p.Image, &g) == nil && g.Name != "" {
					g.Release = cur.Release
					arch.Images.Gcp = &g
				}
			}
		}
		s.Architectures[name] = arch
	}
	for f := range cur.Files() {
		pa, ok := s.Architectures[f.Arch].Artifacts[f.Platform]
		if !ok {
			pa = fcosstream.PlatformArtifacts{Release: cur.Release, Formats: map[string]fcosstream.ImageFormat{}}
		}
		a := &fcosstream.Artifact{Location: cfg.ArtifactURL(st.Name, f.Location), Sha256: f.SHA256, UncompressedSha256: f.UncompressedSHA256}
		if f.Signature != "" {
			a.Signature = cfg.ArtifactURL(st.Name, f.Signature)
		}
		ff := pa.Formats[f.Format]
		switch f.Role {
		case "disk":
			ff.Disk = a
		case "kernel":
			ff.Kernel = a
		case "initramfs":
			ff.Initramfs = a
		case "rootfs":
			ff.Rootfs = a
		default:
			continue // the format has no place for it
		}
		pa.Formats[f.Format] = ff
		s.Architectures[f.Arch].Artifacts[f.Platform] = pa
	}
	return s
}

// ReleaseIndex lists every build that passed its tests, revoked ones too
// (the update graph says where not to go), oldest first.
func ReleaseIndex(st *release.Stream, cfg *config.Config) fcosrelease.Index {
	idx := fcosrelease.Index{
		Note:     "For tools that follow releases. Installers should read the stream metadata, streams/" + st.Name + ".json.",
		Releases: []fcosrelease.IndexRelease{},
		Metadata: fcosrelease.Metadata{LastModified: lastModified(st).Format(time.RFC3339)},
		Stream:   st.Name,
	}
	for _, b := range slices.Backward(st.Builds) {
		if b.Failed() {
			continue
		}
		r := fcosrelease.IndexRelease{Version: b.Release, MetadataURL: cfg.SiteURL(view.ManifestURL(b.Path))}
		for _, arch := range slices.Sorted(maps.Keys(b.Architectures)) {
			sum := b.Architectures[arch].Commit
			if sum == "" && b.OSTree != nil && (len(b.Architectures) == 1 || strings.Contains(b.OSTree.Ref, arch)) {
				sum = b.OSTree.Commit
			}
			if sum != "" {
				r.Commits = append(r.Commits, fcosrelease.IndexReleaseCommit{Architecture: arch, Checksum: sum})
			}
		}
		idx.Releases = append(idx.Releases, r)
	}
	return idx
}

// UpdateGraph is the Fedora CoreOS updates format (stream-metadata-go
// has no types for it).
type UpdateGraph struct {
	Stream   string              `json:"stream"`
	Metadata fcosstream.Metadata `json:"metadata"`
	Releases []UpdateRelease     `json:"releases"`
}

// UpdateRelease says what clients must know of one release.
type UpdateRelease struct {
	Version  string         `json:"version"`
	Metadata UpdateMetadata `json:"metadata"`
}

// UpdateMetadata holds a release's update hints.
type UpdateMetadata struct {
	Deadend *Reason `json:"deadend,omitempty"`
	Barrier *Reason `json:"barrier,omitempty"`
}

// Reason is a URL that explains.
type Reason struct {
	Reason string `json:"reason"`
}

// Updates marks every revoked build a dead end, with its reason: clients
// on it are told to move on, and none is sent to it. Oldest first.
func Updates(st *release.Stream) UpdateGraph {
	g := UpdateGraph{Stream: st.Name, Metadata: fcosstream.Metadata{LastModified: lastModified(st).Format(time.RFC3339)}, Releases: []UpdateRelease{}}
	for _, b := range slices.Backward(st.Builds) {
		if b.Revoked() && !b.Failed() {
			g.Releases = append(g.Releases, UpdateRelease{Version: b.Release, Metadata: UpdateMetadata{Deadend: &Reason{Reason: b.Revocation.Reason}}})
		}
	}
	return g
}

// Link is a stable link and where it points now.
type Link struct {
	From, To, Title string
}

// Latest returns the stable links of a stream's current build:
// /latest/<stream>/<arch>/<format> (with -<role> for PXE's kernel,
// initramfs and rootfs). Where two platforms ship one format, the link
// goes to the first in a fixed order, and /latest/<stream>/<arch>/<platform>/<format>
// names each.
func Latest(st *release.Stream, cfg *config.Config) []Link {
	cur := st.Current
	if cur == nil {
		return nil
	}
	// Files() walks arch by arch, platforms in name order; within each
	// arch, the usual homes of a format go first.
	var files []manifest.Placed
	for f := range cur.Files() {
		files = append(files, f)
	}
	first := []string{"qemu", "metal", "vagrant"}
	slices.SortStableFunc(files, func(a, b manifest.Placed) int {
		if c := strings.Compare(a.Arch, b.Arch); c != 0 {
			return c
		}
		return view.Rank(first, a.Platform) - view.Rank(first, b.Platform)
	})
	var links []Link
	taken := map[string]bool{}
	for _, f := range files {
		key := f.Format
		if f.Role != "disk" {
			key += "-" + f.Role
		}
		to := cfg.ArtifactURL(st.Name, f.Location)
		title := fmt.Sprintf("%s %s %s %s", cur.Release, f.Arch, f.Platform, key)
		if k := f.Arch + "/" + key; !taken[k] {
			taken[k] = true
			links = append(links, Link{From: "/latest/" + st.Name + "/" + f.Arch + "/" + key, To: to, Title: title})
		}
		links = append(links, Link{From: "/latest/" + st.Name + "/" + f.Arch + "/" + f.Platform + "/" + key, To: to, Title: title})
	}
	return links
}

var redirectTmpl = template.Must(template.New("redirect").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="0; url={{ .To }}">
<link rel="canonical" href="{{ .To }}">
<title>{{ .Title }}</title>
</head>
<body>
<p>The current file is <a href="{{ .To }}">{{ .Title }}</a>.</p>
</body>
</html>
`))

// redirectPage is the fallback for servers that do not read _redirects.
func redirectPage(l Link) ([]byte, error) {
	var buf bytes.Buffer
	err := redirectTmpl.Execute(&buf, l)
	return buf.Bytes(), err
}

// feedTitle names the stream, which a stream's title may not ("Fedora
// Atomic Host 28" is the stable stream's): a reader subscribed to several
// feeds must tell them apart.
func feedTitle(title, stream string) string {
	if !strings.Contains(strings.ToLower(title), strings.ToLower(stream)) {
		title += " (" + stream + ")"
	}
	return title + ": builds"
}

// Atom is an Atom 1.0 feed (RFC 4287).
type Atom struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  AtomPerson  `xml:"author"`
	Links   []AtomLink  `xml:"link"`
	Entries []AtomEntry `xml:"entry"`
}

// AtomPerson is an author.
type AtomPerson struct {
	Name string `xml:"name"`
}

// AtomLink is a link.
type AtomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
}

// AtomEntry is one event.
type AtomEntry struct {
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Link    AtomLink `xml:"link"`
	Summary string   `xml:"summary"`
}

// feedEntries is how many of the newest events a feed keeps.
const feedEntries = 50

// Feed is a stream's Atom feed: new builds, failures, revocations and, while
// it lasts, the stale notice.
func Feed(st *release.Stream, cfg *config.Config) ([]byte, error) {
	title := cfg.Stream(st.Name).Title
	streamURL := cfg.SiteURL(view.StreamURL(st.Name))
	f := Atom{
		ID:     streamURL,
		Title:  feedTitle(title, st.Name),
		Author: AtomPerson{Name: cfg.Title + " release pipeline"},
		Links:  []AtomLink{{Rel: "self", Href: streamURL + "feed.xml"}, {Rel: "alternate", Href: streamURL}},
	}
	type event struct {
		at time.Time
		e  AtomEntry
	}
	var events []event
	for _, b := range st.Builds {
		u := cfg.SiteURL(view.BuildURL(st.Name, b.Release))
		switch {
		case b.Failed():
			events = append(events, event{b.Date, AtomEntry{ID: u + "#failed", Title: b.Release + " failed its tests",
				Link: AtomLink{Href: u}, Summary: "Not offered for download. The failure is tracked at " + b.FailureTracker}})
		default:
			events = append(events, event{b.Date, AtomEntry{ID: u + "#released", Title: b.Release + " released",
				Link: AtomLink{Href: u}, Summary: title + " " + b.Release + " passed its tests and is published."}})
		}
		if b.Revoked() {
			instead := "Nothing could be offered in its place."
			if b.ReplacedBy != nil {
				instead = b.ReplacedBy.Release + " was offered in its place."
			}
			events = append(events, event{b.Revocation.RevokedAt, AtomEntry{ID: u + "#withdrawn", Title: b.Release + " withdrawn",
				Link: AtomLink{Href: b.Revocation.Reason}, Summary: "Withdrawn: " + b.Revocation.Reason + ". " + instead}})
		}
	}
	if st.Stale {
		summary := "No build has passed its tests since " + st.Current.Date.Format("2006-01-02") + "; " + st.Current.Release + " is still offered."
		if st.Failure != nil {
			summary += " The newest failure is tracked at " + st.Failure.FailureTracker
		}
		events = append(events, event{st.StaleSince, AtomEntry{ID: streamURL + "#stale-" + st.Current.Release, Title: title + " is stale",
			Link: AtomLink{Href: streamURL}, Summary: summary}})
	}
	slices.SortStableFunc(events, func(a, b event) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return strings.Compare(a.e.ID, b.e.ID)
	})
	if len(events) > feedEntries {
		events = events[:feedEntries]
	}
	updated := lastModified(st)
	for _, e := range events {
		e.e.Updated = e.at.UTC().Format(time.RFC3339)
		f.Entries = append(f.Entries, e.e)
		if e.at.After(updated) {
			updated = e.at
		}
	}
	f.Updated = updated.UTC().Format(time.RFC3339)
	out, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}
