// Package pages turns the release state into what the site's templates
// read: one content file per generated page, with the page's data in JSON
// front matter, and the site-wide data. It knows nothing of Hugo beyond
// the shape of a content file.
package pages

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"path"
	"slices"
	"strconv"
	"time"

	"github.com/projectatomic/atomic-site/internal/bytesize"
	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/notes"
	"github.com/projectatomic/atomic-site/internal/release"
)

// File is one generated file, its path relative to the generated tree
// (content/… or data/…).
type File struct {
	Path string
	Data []byte
}

// Generate returns every generated file for state, in a stable order with
// stable bytes: the same state gives the same files.
func Generate(state *release.State, cfg *config.Config) ([]File, error) {
	g := generator{cfg: cfg, now: state.Now}
	streams := orderStreams(state, cfg)
	var files []File
	home := Home{}
	for _, st := range streams {
		sv, err := g.stream(st)
		if err != nil {
			return nil, err
		}
		// The home page shows each stream's current build and notices;
		// the history is on the stream's own page.
		brief := *sv
		brief.History = nil
		home.Streams = append(home.Streams, &brief)
		for _, b := range st.Builds {
			bv, err := g.build(st, b, true)
			if err != nil {
				return nil, err
			}
			fm := map[string]any{
				"title":  b.Release + " · " + bv.Title,
				"layout": "build",
				"params": map[string]any{"build": bv, "streamtitle": sv.Title},
				// The date orders the page and gives the sitemap its lastmod.
				"date": b.Date.UTC().Format(time.RFC3339),
			}
			if !b.Failed() {
				fm["outputs"] = []string{"html", "checksum"}
			}
			f, err := contentFile(path.Join("content", "streams", st.Name, b.Release+".md"), fm)
			if err != nil {
				return nil, err
			}
			files = append(files, f)
		}
		// The stream's page is constant; what changes with each build is
		// in a headless page it reads. Hugo re-renders every page below a
		// section whose _index changes (its cascade might have), so the
		// state must not live there.
		f, err := contentFile(path.Join("content", "streams", st.Name, "_index.md"), map[string]any{
			"title": sv.Title, "layout": "stream", "params": map[string]any{"state": stateStream(st.Name)}})
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		if f, err = stateFile(stateStream(st.Name), map[string]any{"stream": sv}); err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	f, err := contentFile("content/_index.md", map[string]any{"title": cfg.Title, "params": map[string]any{"state": stateHome}})
	if err != nil {
		return nil, err
	}
	files = append(files, f)
	if f, err = stateFile(stateHome, map[string]any{"home": home}); err != nil {
		return nil, err
	}
	files = append(files, f)
	files = append(files, File{Path: "content/state/_index.md", Data: []byte(`{"title":"state","build":{"render":"never","list":"never"}}` + "\n")})
	site := map[string]any{
		"title":   cfg.Title,
		"docs":    cfg.Docs,
		"streams": streamLinks(home.Streams),
	}
	data, err := json.MarshalIndent(site, "", "  ")
	if err != nil {
		return nil, err
	}
	files = append(files, File{Path: "data/sitegen.json", Data: append(data, '\n')})
	return files, nil
}

// orderStreams puts configured streams first, in config order, then the
// rest by name.
func orderStreams(state *release.State, cfg *config.Config) []*release.Stream {
	order := cfg.StreamNames()
	streams := slices.Clone(state.Streams)
	slices.SortStableFunc(streams, func(a, b *release.Stream) int { return Rank(order, a.Name) - Rank(order, b.Name) })
	return streams
}

func streamLinks(streams []*Stream) []Link {
	links := make([]Link, len(streams))
	for i, s := range streams {
		links[i] = Link{Title: s.Title, URL: s.URL}
	}
	return links
}

// The headless pages that hold the home page's and the streams' state.
const stateHome = "/state/home"

func stateStream(name string) string { return "/state/stream-" + name }

// stateFile writes a headless page: never rendered or listed, read by the
// template of the page it belongs to.
func stateFile(page string, params map[string]any) (File, error) {
	return contentFile("content"+page+".md", map[string]any{
		"title": page, "params": params, "build": map[string]any{"render": "never", "list": "never"}})
}

// contentFile writes a Hugo content file with JSON front matter and no
// body: every page is drawn by its template from params.
func contentFile(p string, frontMatter map[string]any) (File, error) {
	data, err := json.Marshal(frontMatter)
	if err != nil {
		return File{}, fmt.Errorf("generate %s: %w", p, err)
	}
	return File{Path: p, Data: append(data, '\n')}, nil
}

// Link is a titled link.
type Link struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Home is the data of the home page.
type Home struct {
	Streams []*Stream `json:"streams"`
}

// Stream is the data of one stream, on the home page and its own page.
type Stream struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url"`
	Cadence     string `json:"cadence"`
	Current     *Build `json:"current,omitempty"`
	Stale       bool   `json:"stale"`
	StaleSince  string `json:"stalesince,omitempty"`
	// Failure is the newest failed build after the current one.
	Failure   *Summary   `json:"failure,omitempty"`
	Withdrawn []*Summary `json:"withdrawn,omitempty"`
	History   []*Summary `json:"history,omitempty"`
}

// Summary is a build in a list: enough to link and judge it.
type Summary struct {
	Release        string      `json:"release"`
	URL            string      `json:"url"`
	Date           string      `json:"date"`
	Status         string      `json:"status"` // released, failed, revoked
	Current        bool        `json:"current,omitempty"`
	FailureTracker string      `json:"failuretracker,omitempty"`
	Revocation     *Revocation `json:"revocation,omitempty"`
}

// Revocation says why and when a build was withdrawn, and what replaces it.
type Revocation struct {
	Reason     string   `json:"reason"`
	At         string   `json:"at"`
	ReplacedBy *Summary `json:"replacedby,omitempty"`
}

// Build is the data of one build's page, and of a stream's current build.
type Build struct {
	Summary
	Title     string  `json:"title"`
	Stream    string  `json:"stream"`
	Tests     string  `json:"tests,omitempty"`
	NotesHTML string  `json:"noteshtml,omitempty"`
	OSTree    *OSTree `json:"ostree,omitempty"`
	Arches    []*Arch `json:"arches"`
	Manifest  string  `json:"manifest"` // path of the signed manifest
	// Checksum are the lines of the build's CHECKSUM file (a second
	// output of its page); none for a failed build.
	Checksum []ChecksumLine `json:"checksum,omitempty"`
}

// ChecksumLine is one file in Fedora's CHECKSUM format:
//
//	# NAME: BYTES bytes
//	SHA256 (NAME) = SHA256
type ChecksumLine struct {
	Name   string `json:"name"`
	Bytes  string `json:"bytes,omitempty"`
	SHA256 string `json:"sha256"`
}

// ChecksumLines lists a build's files once each by name, for sha256sum -c.
func ChecksumLines(b *manifest.Build, cfg *config.Config) []ChecksumLine {
	var lines []ChecksumLine
	seen := map[string]bool{}
	for f := range b.Files() {
		name := path.Base(cfg.ArtifactURL(b.Stream, f.Location))
		if seen[name] {
			continue
		}
		seen[name] = true
		l := ChecksumLine{Name: name, SHA256: f.SHA256}
		if f.Size != nil {
			l.Bytes = strconv.FormatInt(*f.Size, 10)
		}
		lines = append(lines, l)
	}
	return lines
}

// OSTree is how to rebase a host onto the build.
type OSTree struct {
	Repo   string `json:"repo,omitempty"`
	Ref    string `json:"ref"`
	Commit string `json:"commit"`
	Remote string `json:"remote"`
	Rebase string `json:"rebase"`
}

// Arch is one architecture's downloads and cloud images.
type Arch struct {
	Name      string      `json:"name"`
	Artifacts []*Artifact `json:"artifacts"`
	Images    []*Image    `json:"images,omitempty"`
}

// Artifact is one downloadable file.
type Artifact struct {
	Platform string `json:"platform"`
	Format   string `json:"format"`
	Role     string `json:"role"` // disk, or kernel/initramfs/rootfs for pxe
	Name     string `json:"name"` // the file name
	URL      string `json:"url"`
	// Bytes is the exact size as text (templates would print a JSON
	// number as a float); empty when the manifest does not say.
	Bytes     string `json:"bytes,omitempty"`
	SizeHuman string `json:"sizehuman"`
	SHA256    string `json:"sha256"`
	Signature string `json:"signature,omitempty"`
}

// Image is a cloud image in one region.
type Image struct {
	Platform string `json:"platform"`
	Region   string `json:"region"`
	Image    string `json:"image"`
	Launch   string `json:"launch,omitempty"`
}

type generator struct {
	cfg *config.Config
	now time.Time
}

const day = "2006-01-02"

// StreamURL and BuildURL are the site's paths for streams and builds.
func StreamURL(stream string) string { return "/streams/" + stream + "/" }

// BuildURL is the site path of a build's page.
func BuildURL(stream, rel string) string { return StreamURL(stream) + rel + "/" }

func (g generator) stream(st *release.Stream) (*Stream, error) {
	sc := g.cfg.Stream(st.Name)
	sv := &Stream{
		Name:        st.Name,
		Title:       sc.Title,
		Description: sc.Description,
		URL:         StreamURL(st.Name),
		Cadence:     humanDuration(st.Cadence),
		Stale:       st.Stale,
		History:     []*Summary{},
	}
	if st.Current != nil {
		cur, err := g.build(st, st.Current, false)
		if err != nil {
			return nil, err
		}
		sv.Current = cur
		sv.StaleSince = st.StaleSince.Format(day)
	}
	if st.Failure != nil {
		sv.Failure = g.summary(st, st.Failure)
	}
	for _, b := range st.Withdrawn {
		sv.Withdrawn = append(sv.Withdrawn, g.summary(st, b))
	}
	for _, b := range st.Builds {
		sv.History = append(sv.History, g.summary(st, b))
	}
	return sv, nil
}

func (g generator) summary(st *release.Stream, b *release.Build) *Summary {
	s := &Summary{
		Release:        b.Release,
		URL:            BuildURL(st.Name, b.Release),
		Date:           b.Date.Format(day),
		Status:         b.Status,
		Current:        b == st.Current,
		FailureTracker: b.FailureTracker,
	}
	if b.Revoked() {
		s.Status = "revoked"
		s.Revocation = &Revocation{Reason: b.Revocation.Reason, At: b.Revocation.RevokedAt.Format(day)}
		if r := b.ReplacedBy; r != nil {
			s.Revocation.ReplacedBy = &Summary{Release: r.Release, URL: BuildURL(st.Name, r.Release), Date: r.Date.Format(day), Status: r.Status, Current: true}
		}
	}
	return s
}

func (g generator) build(st *release.Stream, b *release.Build, withNotes bool) (*Build, error) {
	bv := &Build{
		Summary:  *g.summary(st, b),
		Title:    b.Title,
		Stream:   st.Name,
		Tests:    b.Tests,
		Manifest: b.Path,
		Arches:   []*Arch{},
	}
	if bv.Title == "" {
		bv.Title = g.cfg.Stream(st.Name).Title
	}
	if withNotes && !b.Failed() { // the build's own page: its CHECKSUM too
		bv.Checksum = ChecksumLines(b.Build.Build, g.cfg)
	}
	if withNotes && b.Notes != "" {
		html, err := notes.HTML(b.Notes)
		if err != nil {
			return nil, fmt.Errorf("%s: notes: %w", b.Path, err)
		}
		bv.NotesHTML = html
	}
	if o := b.OSTree; o != nil {
		remote := g.cfg.OSTreeRemote
		bv.OSTree = &OSTree{Repo: o.Repo, Ref: o.Ref, Commit: o.Commit, Remote: remote,
			Rebase: "rpm-ostree rebase " + remote + ":" + o.Ref}
	}
	for _, arch := range slices.Sorted(maps.Keys(b.Architectures)) {
		av := &Arch{Name: arch, Artifacts: []*Artifact{}}
		a := b.Architectures[arch]
		for _, pname := range slices.Sorted(maps.Keys(a.Media)) {
			p := a.Media[pname]
			for _, format := range slices.Sorted(maps.Keys(p.Artifacts)) {
				for _, role := range roles(p.Artifacts[format]) {
					art := p.Artifacts[format][role]
					av.Artifacts = append(av.Artifacts, g.artifact(b, pname, format, role, art))
				}
			}
			for _, region := range slices.Sorted(maps.Keys(p.Images)) {
				img := p.Images[region].Image
				iv := &Image{Platform: pname, Region: region, Image: img}
				if pname == "aws" {
					iv.Launch = "https://console.aws.amazon.com/ec2/home?region=" + url.QueryEscape(region) + "#launchAmi=" + url.QueryEscape(img)
				}
				av.Images = append(av.Images, iv)
			}
		}
		slices.SortStableFunc(av.Artifacts, func(x, y *Artifact) int { return formatRank(x.Format) - formatRank(y.Format) })
		bv.Arches = append(bv.Arches, av)
	}
	return bv, nil
}

// formatOrder is how visitors look for formats: the common disk images
// first, installers after; other formats follow in name order.
var formatOrder = []string{"qcow2", "qcow2.xz", "raw.xz", "vagrant-libvirt", "vagrant-virtualbox", "iso", "pxe"}

func formatRank(f string) int { return Rank(formatOrder, f) }

// Rank is name's place in a preferred order; names not in it come after
// all that are.
func Rank(order []string, name string) int {
	if i := slices.Index(order, name); i >= 0 {
		return i
	}
	return len(order)
}

// roles orders a format's files: disk first, then PXE's in boot order.
func roles(f manifest.Format) []string {
	rank := map[string]int{"disk": 0, "kernel": 1, "initramfs": 2, "rootfs": 3}
	keys := slices.Sorted(maps.Keys(f))
	slices.SortStableFunc(keys, func(a, b string) int {
		ra, oka := rank[a]
		rb, okb := rank[b]
		if !oka {
			ra = 9
		}
		if !okb {
			rb = 9
		}
		return ra - rb
	})
	return keys
}

func (g generator) artifact(b *release.Build, platform, format, role string, a *manifest.Artifact) *Artifact {
	v := &Artifact{
		Platform:  platform,
		Format:    format,
		Role:      role,
		URL:       g.cfg.ArtifactURL(b.Stream, a.Location),
		SHA256:    a.SHA256,
		SizeHuman: "unknown",
	}
	v.Name = path.Base(v.URL)
	if a.Size != nil {
		v.Bytes = strconv.FormatInt(*a.Size, 10)
		v.SizeHuman = bytesize.Format(*a.Size)
	}
	if a.Signature != "" {
		v.Signature = g.cfg.ArtifactURL(b.Stream, a.Signature)
	}
	return v
}

func humanDuration(d time.Duration) string {
	switch days := d / (24 * time.Hour); {
	case d%(24*time.Hour) != 0:
		return d.String()
	case days == 1:
		return "day"
	default:
		return strconv.Itoa(int(days)) + " days"
	}
}
