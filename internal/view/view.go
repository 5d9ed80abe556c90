// Package view is what the site shows of the release state: one view of a
// stream, a build and its files, made once and read by the pages (as their
// front matter), the machine-readable metadata and the announcement; the
// site's paths; and File, a generated file.
package view

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/projectatomic/atomic-site/internal/bytesize"
	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/notes"
	"github.com/projectatomic/atomic-site/internal/release"
)

// File is one generated file: its slash path (below the generated tree
// for pages, below the site root for metadata) and its bytes.
type File struct {
	Path string
	Data []byte
	// Page is the content file of the build page this file makes (the
	// page itself, or the data it reads); empty for the site's other
	// files.
	Page string
	// Settled marks a build page's files when the page will rarely
	// change again: an old build's, not its stream's current one. A
	// renderer that keeps a site loaded (serve) may render such pages
	// apart from the ones that change with each build.
	Settled bool
}

// The site's paths, made here and nowhere else.

// StreamURL is the site path of a stream's page.
func StreamURL(stream string) string { return "/streams/" + stream + "/" }

// BuildURL is the site path of a build's page.
func BuildURL(stream, rel string) string { return StreamURL(stream) + rel + "/" }

// MetalinkURL is the site path of the Metalink of a build's file name.
func MetalinkURL(stream, rel, name string) string { return BuildURL(stream, rel) + name + ".meta4" }

// ChecksumURL is the site path of a build's CHECKSUM file.
func ChecksumURL(stream, rel string) string { return BuildURL(stream, rel) + "CHECKSUM" }

// ManifestURL is the site path of a published manifest.
func ManifestURL(manifestPath string) string { return "/manifests/" + manifestPath }

// NewStream is the view of a stream: its current build (without notes),
// notices and history.
func NewStream(st *release.Stream, cfg *config.Config) (*Stream, error) {
	return generator{cfg: cfg}.stream(st)
}

// NewBuild is the full view of one build, for its own page and its
// announcement: notes and CHECKSUM lines included.
func NewBuild(st *release.Stream, b *release.Build, cfg *config.Config) (*Build, error) {
	return generator{cfg: cfg}.build(st, b, true)
}

// Stream is the data of one stream, on the home page and its own page.
type Stream struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url"`
	Cadence     string `json:"cadence"`
	// CadenceDays is the cadence in whole days, for the templates to say
	// in the page's language; 0 when it is not whole days (Cadence then).
	CadenceDays int    `json:"cadencedays,omitempty"`
	Current     *Build `json:"current,omitempty"`
	Stale       bool   `json:"stale"`
	StaleSince  string `json:"stalesince,omitempty"`
	// Failure is the newest failed build after the current one.
	Failure   *Summary   `json:"failure,omitempty"`
	Withdrawn []*Summary `json:"withdrawn,omitempty"`
	// For a release stream, promoted from Candidates: whether it fell back
	// to an older release after one was withdrawn, the candidate that a
	// promotion would pick now, and when the next promotion can come
	// (NextWhen: "" for the next daily release run, else a date).
	Candidates    string   `json:"candidates,omitempty"`
	FellBack      bool     `json:"fellback,omitempty"`
	NextCandidate *Summary `json:"nextcandidate,omitempty"`
	NextWhen      string   `json:"nextwhen,omitempty"`
	// History is the newest HistoryLimit builds; when there are more,
	// Years links a page per year that holds every build of it.
	History []*Summary `json:"history,omitempty"`
	Years   []*Year    `json:"years,omitempty"`
}

// HistoryLimit is how many builds a stream's page lists: past it, older
// builds are on a page per year, so that no page grows with the history.
const HistoryLimit = 50

// Year is one year of a stream's history: its own page.
type Year struct {
	Year   string     `json:"year"`
	URL    string     `json:"url"`
	Builds []*Summary `json:"builds,omitempty"` // only on the year's own page
}

// HistoryURL is the site path of a stream's builds of one year.
func HistoryURL(stream, year string) string { return StreamURL(stream) + "history/" + year + "/" }

// Years is a stream's history by year, newest first, each with every build
// of that year; none when the stream page lists every build.
func Years(st *release.Stream) []*Year {
	if len(st.Builds) <= HistoryLimit {
		return nil
	}
	g := generator{}
	var years []*Year
	for _, b := range st.Builds { // newest first
		y := b.Date.Format("2006")
		if len(years) == 0 || years[len(years)-1].Year != y {
			years = append(years, &Year{Year: y, URL: HistoryURL(st.Name, y)})
		}
		last := years[len(years)-1]
		last.Builds = append(last.Builds, g.summary(st, b))
	}
	return years
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
	// PromotedFrom names the candidate a release was promoted from.
	PromotedFrom *Promotion `json:"promotedfrom,omitempty"`
}

// Promotion is where a release came from: the candidate build, the
// sha256 of its manifest's exact bytes, and when it was promoted.
type Promotion struct {
	Stream  string `json:"stream"`
	Release string `json:"release"`
	URL     string `json:"url"`
	SHA256  string `json:"sha256"`
	At      string `json:"at"`
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
	Notes     string  `json:"-"` // the Markdown, for plain-text readers
	NotesHTML string  `json:"noteshtml,omitempty"`
	OSTree    *OSTree `json:"ostree,omitempty"`
	Arches    []*Arch `json:"arches"`
	// First is the download most visitors want, shown first on the home
	// page above the full tables, and FirstArch its architecture.
	First     *Artifact `json:"first,omitempty"`
	FirstArch string    `json:"firstarch,omitempty"`
	Manifest  string    `json:"manifest"` // path of the signed manifest
	// StreamState is, for the stream's current build, its stream's
	// notices (the stream without its history), shown on the build's page.
	StreamState *Stream `json:"streamstate,omitempty"`
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

// ChecksumLines lists a build's files once each by name, for sha256sum -c,
// architectures in the site's order.
func ChecksumLines(b *manifest.Build, cfg *config.Config) []ChecksumLine {
	byArch := map[string][]manifest.Placed{}
	for f := range b.Files() {
		byArch[f.Arch] = append(byArch[f.Arch], f)
	}
	names := slices.Collect(maps.Keys(byArch))
	cfg.SortArches(names)
	var lines []ChecksumLine
	seen := map[string]bool{}
	for _, arch := range names {
		for _, f := range byArch[arch] {
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
	Arch     string `json:"-"` // the Arch it is listed under says it
	Platform string `json:"platform"`
	Format   string `json:"format"`
	Role     string `json:"role"` // disk, or kernel/initramfs/rootfs for pxe
	Name     string `json:"name"` // the file name
	URL      string `json:"url"`
	// Bytes is the exact size as text (templates would print a JSON
	// number as a float); empty when the manifest does not say.
	Bytes string `json:"bytes,omitempty"`
	// SizeValue and SizeUnit are the size in binary units (579.5, MiB),
	// for the templates to write the number in the page's language; no
	// unit when the manifest does not say.
	SizeValue float64 `json:"sizevalue,omitempty"`
	SizeUnit  string  `json:"sizeunit,omitempty"`
	SHA256    string  `json:"sha256"`
	Signature string  `json:"signature,omitempty"`
	// Metalink is the site path of the file's Metalink, for a build the
	// site offers.
	Metalink string `json:"metalink,omitempty"`
}

// Image is a cloud image in one region.
type Image struct {
	Platform string `json:"platform"`
	Region   string `json:"region"`
	Image    string `json:"image"`
	Launch   string `json:"launch,omitempty"`  // a console link
	Command  string `json:"command,omitempty"` // or the command that starts one
}

// gceImage is the Google Compute Engine image a manifest names (gcp.image:
// project, family, name, as in a Fedora CoreOS release.json), with the
// gcloud line that starts an instance of it; nil if there is none.
func gceImage(raw json.RawMessage) *Image {
	var g struct{ Project, Family, Name string }
	if len(raw) == 0 || json.Unmarshal(raw, &g) != nil || g.Name == "" || g.Project == "" {
		return nil
	}
	cmd := "gcloud compute instances create NAME --image-project " + g.Project
	if g.Family != "" {
		cmd += " --image-family " + g.Family
	} else {
		cmd += " --image " + g.Name
	}
	return &Image{Platform: "gcp", Region: "global", Image: g.Name, Command: cmd}
}

type generator struct {
	cfg *config.Config
}

const day = "2006-01-02"

func (g generator) stream(st *release.Stream) (*Stream, error) {
	sc := g.cfg.Stream(st.Name)
	sv := &Stream{
		Name:        st.Name,
		Title:       sc.Title,
		Description: sc.Description,
		URL:         StreamURL(st.Name),
		Cadence:     humanDuration(st.Cadence),
		CadenceDays: wholeDays(st.Cadence),
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
	if st.CandidateStream != "" {
		sv.Candidates, sv.FellBack = st.CandidateStream, st.FellBack()
		if c := st.NextCandidate; c != nil {
			sv.NextCandidate = g.summary(st, c)
		}
		sv.NextWhen = g.nextWhen(st, sv.FellBack)
	}
	for _, b := range st.Withdrawn {
		sv.Withdrawn = append(sv.Withdrawn, g.summary(st, b))
	}
	for _, b := range st.Builds[:min(len(st.Builds), HistoryLimit)] {
		sv.History = append(sv.History, g.summary(st, b))
	}
	for _, y := range Years(st) {
		sv.Years = append(sv.Years, &Year{Year: y.Year, URL: y.URL})
	}
	return sv, nil
}

// nextWhen says when the next promotion into st can come, under the
// config's policies: "" when the next daily release run promotes a
// candidate that passed (a withdrawn release under next-good, a missed
// release day under next-good), else the next release day's date.
func (g generator) nextWhen(st *release.Stream, fellBack bool) string {
	p := g.cfg.Promote
	if fellBack && p.WithdrawnPolicy == config.NextGood || !fellBack && st.Stale && p.StalePolicy == config.NextGood {
		return ""
	}
	var epoch time.Time
	if p.Epoch != nil {
		epoch = p.Epoch.UTC()
	}
	_, next, _ := st.ReleaseDays(epoch, st.Now)
	return next.Format(day)
}

func (g generator) summary(st *release.Stream, b *release.Build) *Summary {
	s := &Summary{
		Release:        b.Release,
		URL:            BuildURL(b.Stream, b.Release), // a candidate's failure lives in its own stream
		Date:           b.Date.Format(day),
		Status:         b.Status,
		Current:        b == st.Current,
		FailureTracker: b.FailureTracker,
	}
	if p := b.PromotedFrom; p != nil {
		s.PromotedFrom = &Promotion{Stream: p.Stream, Release: p.Release, URL: BuildURL(p.Stream, p.Release),
			SHA256: p.SHA256, At: p.PromotedAt.UTC().Format(day)}
	}
	if b.Revoked() {
		s.Status = "revoked"
		s.Revocation = &Revocation{Reason: b.Revocation.Reason, At: b.Revocation.RevokedAt.Format(day)}
		if r := b.ReplacedBy; r != nil {
			s.Revocation.ReplacedBy = &Summary{Release: r.Release, URL: BuildURL(r.Stream, r.Release), Date: r.Date.Format(day), Status: r.Status}
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
	if withNotes && b.Notes != "" {
		bv.Notes = strings.TrimSpace(b.Notes)
		html, err := notes.HTML(b.Notes)
		if err != nil {
			return nil, fmt.Errorf("%s: notes: %w", b.Name, err)
		}
		bv.NotesHTML = html
	}
	if o := b.OSTree; o != nil {
		remote := g.cfg.OSTreeRemote
		bv.OSTree = &OSTree{Repo: o.Repo, Ref: o.Ref, Commit: o.Commit, Remote: remote,
			Rebase: "rpm-ostree rebase " + remote + ":" + o.Ref}
	}
	arches := map[string]*Arch{}
	names := slices.Collect(maps.Keys(b.Architectures))
	g.cfg.SortArches(names)
	for _, arch := range names {
		av := &Arch{Name: arch, Artifacts: []*Artifact{}}
		arches[arch] = av
		bv.Arches = append(bv.Arches, av)
		a := b.Architectures[arch]
		for _, pname := range slices.Sorted(maps.Keys(a.Media)) {
			if pname == "gcp" {
				if iv := gceImage(a.Media[pname].Image); iv != nil {
					av.Images = append(av.Images, iv)
				}
			}
			for _, region := range slices.Sorted(maps.Keys(a.Media[pname].Images)) {
				img := a.Media[pname].Images[region].Image
				iv := &Image{Platform: pname, Region: region, Image: img}
				if pname == "aws" {
					iv.Launch = "https://console.aws.amazon.com/ec2/home?region=" + url.QueryEscape(region) + "#launchAmi=" + url.QueryEscape(img)
				}
				av.Images = append(av.Images, iv)
			}
		}
	}
	for f := range b.Files() {
		a := g.artifact(b, f)
		if HasMetalinks(st, b) {
			a.Metalink = MetalinkURL(b.Stream, b.Release, a.Name)
		}
		arches[f.Arch].Artifacts = append(arches[f.Arch].Artifacts, a)
	}
	for _, av := range bv.Arches {
		slices.SortStableFunc(av.Artifacts, visitorOrder)
	}
	// The first architecture in the config's order is most visitors'.
	if bv.First = firstChoice(bv.Arches); bv.First != nil {
		bv.FirstArch = bv.First.Arch
	}
	return bv, nil
}

// firstChoice is the download most visitors want: the first disk image of
// the first architecture that has one, in the order visitors look for
// formats.
func firstChoice(arches []*Arch) *Artifact {
	for _, av := range arches {
		for _, a := range av.Artifacts {
			if a.Role == "disk" {
				return a
			}
		}
	}
	return nil
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

// roleOrder is a format's files in boot order: the disk, or PXE's kernel,
// initramfs and rootfs.
var roleOrder = []string{"disk", "kernel", "initramfs", "rootfs"}

// visitorOrder sorts a build's files as visitors look for them: by format
// (formatOrder), then platform and format name, then role in boot order.
func visitorOrder(x, y *Artifact) int {
	if c := formatRank(x.Format) - formatRank(y.Format); c != 0 {
		return c
	}
	if c := strings.Compare(x.Platform, y.Platform); c != 0 {
		return c
	}
	if c := strings.Compare(x.Format, y.Format); c != 0 {
		return c
	}
	if c := Rank(roleOrder, x.Role) - Rank(roleOrder, y.Role); c != 0 {
		return c
	}
	return strings.Compare(x.Role, y.Role)
}

func (g generator) artifact(b *release.Build, f manifest.Placed) *Artifact {
	a := f.Artifact
	v := &Artifact{
		Arch:     f.Arch,
		Platform: f.Platform,
		Format:   f.Format,
		Role:     f.Role,
		URL:      g.cfg.ArtifactURL(b.Stream, a.Location),
		SHA256:   a.SHA256,
	}
	v.Name = path.Base(v.URL)
	if a.Size != nil {
		v.Bytes = strconv.FormatInt(*a.Size, 10)
		v.SizeValue, v.SizeUnit = bytesize.Split(*a.Size)
	}
	if a.Signature != "" {
		v.Signature = g.cfg.ArtifactURL(b.Stream, a.Signature)
	}
	return v
}

// HasMetalinks reports whether the site writes Metalinks for b's files:
// for each stream's current build, which the /latest/ links also lead to.
// Older builds' pages link their files directly. A Metalink per file of
// ten years of builds would be hundreds of thousands of files, whose
// writing alone costs more than rendering the site; and a window of the
// newest builds would re-render an old build's page whenever a new one
// pushes it out.
func HasMetalinks(st *release.Stream, b *release.Build) bool {
	return b == st.Current
}

func wholeDays(d time.Duration) int {
	if d%(24*time.Hour) != 0 {
		return 0
	}
	return int(d / (24 * time.Hour))
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
