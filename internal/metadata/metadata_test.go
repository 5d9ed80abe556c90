package metadata_test

import (
	"encoding/json"
	"encoding/xml"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/stream-metadata-go/release"
	"github.com/coreos/stream-metadata-go/stream"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/metadata"
	rel "github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/testkit/fixture"
	"github.com/projectatomic/atomic-site/internal/view"
)

func realdata(t *testing.T, name string) []byte { return fixture.Realdata(t, name) }

func files(t *testing.T) map[string][]byte {
	t.Helper()
	state, cfg := fixture.ExampleState(t)
	fs, err := metadata.Generate(state, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, f := range fs {
		m[f.Path] = f.Data
	}
	return m
}

// Our stream metadata, read by the reference library, says what the
// current build offers.
func TestStreamMetadataDecodes(t *testing.T) {
	out := files(t)
	var s stream.Stream
	if err := json.Unmarshal(out["streams/stable.json"], &s); err != nil {
		t.Fatal(err)
	}
	if s.Stream != "stable" || s.Metadata.LastModified != "2018-06-05T05:33:00Z" || s.Metadata.Generator != metadata.Generator {
		t.Errorf("stream %q metadata %+v", s.Stream, s.Metadata)
	}
	x := s.Architectures["x86_64"]
	q := x.Artifacts["qemu"]
	if q.Release != "28.20180508.0" {
		t.Errorf("qemu release = %q, want the current build", q.Release)
	}
	d := q.Formats["qcow2"].Disk
	if d == nil || d.Sha256 != "748aa4ac852971d5d8d921216d203554159da9efd19749e4613b09d5ef687627" ||
		!strings.HasPrefix(d.Location, "https://dl.fedoraproject.org/pub/alt/atomic/stable/") {
		t.Errorf("qcow2 = %+v", d)
	}
	if pxe := x.Artifacts["metal"].Formats["pxe"]; pxe.Kernel == nil || pxe.Initramfs == nil || pxe.Rootfs == nil {
		t.Errorf("pxe = %+v", pxe)
	}
	if x.Images.Aws == nil || x.Images.Aws.Regions["us-east-1"].Image == "" {
		t.Errorf("aws images = %+v", x.Images.Aws)
	}
	// Relative locations in the testing stream resolve under downloads-url.
	var ts stream.Stream
	json.Unmarshal(out["streams/testing.json"], &ts)
	if loc := ts.Architectures["aarch64"].Artifacts["qemu"].Formats["qcow2"].Disk.Location; loc != "https://dl.fedoraproject.org/pub/alt/atomic/testing/Fedora-Atomic-28.20180604.1/aarch64/Fedora-AtomicHost-28-20180604.1.aarch64.qcow2" {
		t.Errorf("relative location resolved to %q", loc)
	}
}

// The Fedora CoreOS release.json, as a manifest, gives the same stream
// metadata as Fedora CoreOS's own for that release.
func TestStreamMetadataMatchesFedoraCoreOS(t *testing.T) {
	b, err := manifest.ParseBuild("stable/33.20201201.3.0.json", realdata(t, "fcos-release.json"))
	if err != nil {
		t.Fatal(err)
	}
	st := &rel.Stream{Name: "stable"}
	rb := &rel.Build{Build: &catalog.Build{Build: b}}
	st.Builds, st.Current = []*rel.Build{rb}, rb
	var ours, theirs stream.Stream
	data, _ := json.Marshal(metadata.StreamMetadata(st, config.Default()))
	if err := json.Unmarshal(data, &ours); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(realdata(t, "fcos-stream.json"), &theirs); err != nil {
		t.Fatal(err)
	}
	for pname, want := range theirs.Architectures["x86_64"].Artifacts {
		got, ok := ours.Architectures["x86_64"].Artifacts[pname]
		if !ok {
			t.Errorf("platform %s missing", pname)
			continue
		}
		if got.Release != want.Release {
			t.Errorf("%s release %q, want %q", pname, got.Release, want.Release)
		}
		for fname, wf := range want.Formats {
			gf := got.Formats[fname]
			for role, pair := range map[string][2]*stream.Artifact{"disk": {gf.Disk, wf.Disk}, "kernel": {gf.Kernel, wf.Kernel}, "initramfs": {gf.Initramfs, wf.Initramfs}, "rootfs": {gf.Rootfs, wf.Rootfs}} {
				g, w := pair[0], pair[1]
				if (g == nil) != (w == nil) || (g != nil && (g.Location != w.Location || g.Sha256 != w.Sha256 || g.Signature != w.Signature)) {
					t.Errorf("%s %s %s = %+v, want %+v", pname, fname, role, g, w)
				}
			}
		}
	}
	if got, want := ours.Architectures["x86_64"].Images.Aws.Regions, theirs.Architectures["x86_64"].Images.Aws.Regions; len(got) != len(want) || got["eu-west-1"] != want["eu-west-1"] {
		t.Errorf("aws regions differ: %d vs %d", len(got), len(want))
	}
	if got, want := ours.Architectures["x86_64"].Images.Gcp, theirs.Architectures["x86_64"].Images.Gcp; got == nil || got.Name != want.Name || got.Project != want.Project {
		t.Errorf("gcp image = %+v, want %+v", got, want)
	}
}

func TestReleaseIndex(t *testing.T) {
	var idx release.Index
	if err := json.Unmarshal(files(t)["releases/stable.json"], &idx); err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, r := range idx.Releases {
		versions = append(versions, r.Version)
	}
	// Oldest first; the failed build is not a release; the revoked one is.
	if got := strings.Join(versions, " "); got != "28.20180425.0 28.20180508.0 28.20180522.0" {
		t.Errorf("releases = %s", got)
	}
	if idx.Stream != "stable" || idx.Releases[0].MetadataURL != "https://atomic.fedoraproject.org/manifests/stable/28.20180425.0.json" ||
		len(idx.Releases[0].Commits) != 1 || idx.Releases[0].Commits[0].Architecture != "x86_64" {
		t.Errorf("index = %+v", idx)
	}
	// And the real index reads with the same types.
	var theirs release.Index
	if err := json.Unmarshal(realdata(t, "fcos-releases.json"), &theirs); err != nil || len(theirs.Releases) == 0 {
		t.Fatalf("fixture: %v", err)
	}
}

func TestUpdatesDeadend(t *testing.T) {
	var g metadata.UpdateGraph
	if err := json.Unmarshal(files(t)["updates/stable.json"], &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Releases) != 1 || g.Releases[0].Version != "28.20180522.0" || g.Releases[0].Metadata.Deadend == nil ||
		g.Releases[0].Metadata.Deadend.Reason != "https://bugzilla.redhat.com/show_bug.cgi?id=1581234" {
		t.Errorf("updates = %+v", g)
	}
	// The shape is Fedora CoreOS's: its dead end reads the same way.
	var theirs metadata.UpdateGraph
	if err := json.Unmarshal(realdata(t, "fcos-updates-next-deadend.json"), &theirs); err != nil {
		t.Fatal(err)
	}
	last := theirs.Releases[len(theirs.Releases)-1]
	if last.Metadata.Deadend == nil || last.Metadata.Deadend.Reason != "https://github.com/coreos/fedora-coreos-tracker/issues/1441" {
		t.Errorf("fixture dead end = %+v", last)
	}
}

func TestFeed(t *testing.T) {
	var f struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		ID      string   `xml:"id"`
		Updated string   `xml:"updated"`
		Author  string   `xml:"author>name"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Link    struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(files(t)["streams/stable/feed.xml"], &f); err != nil {
		t.Fatal(err)
	}
	if f.ID == "" || f.Author == "" || f.Updated != "2018-06-05T05:33:00Z" {
		t.Errorf("feed head: id %q author %q updated %q", f.ID, f.Author, f.Updated)
	}
	var titles []string
	for _, e := range f.Entries {
		if e.ID == "" || e.Updated == "" || e.Link.Href == "" {
			t.Errorf("incomplete entry %+v", e)
		}
		if _, err := time.Parse(time.RFC3339, e.Updated); err != nil {
			t.Errorf("entry %s: %v", e.ID, err)
		}
		titles = append(titles, e.Title)
	}
	want := []string{"28.20180605.0 failed its tests", "28.20180522.0 withdrawn", "28.20180522.0 released", "Fedora Atomic Host 28 is stale", "28.20180508.0 released", "28.20180425.0 released"}
	if !slices.Equal(titles, want) {
		t.Errorf("entries:\n got %q\nwant %q", titles, want)
	}
}

func TestLatestLinks(t *testing.T) {
	out := files(t)
	redirects := string(out["_redirects"])
	for _, want := range []string{
		"/latest/stable/x86_64/qcow2 https://dl.fedoraproject.org/pub/alt/atomic/stable/Fedora-Atomic-28.20180508.0/x86_64/Fedora-AtomicHost-28-20180508.0.x86_64.qcow2 302",
		"/latest/stable/x86_64/pxe-kernel https://",
		"/latest/testing/aarch64/raw.xz https://dl.fedoraproject.org/pub/alt/atomic/testing/Fedora-Atomic-28.20180604.1/",
	} {
		if !strings.Contains(redirects, want) {
			t.Errorf("_redirects lacks %q", want)
		}
	}
	page := string(out["latest/stable/x86_64/qcow2/index.html"])
	if !strings.Contains(page, `<meta http-equiv="refresh" content="0; url=https://dl.fedoraproject.org/pub/alt/atomic/stable/Fedora-Atomic-28.20180508.0/x86_64/Fedora-AtomicHost-28-20180508.0.x86_64.qcow2">`) {
		t.Errorf("fallback page:\n%s", page)
	}
}

// A cache kept between Generates gives the bytes a fresh Generate gives,
// after a stream changes and after the config does.
func TestGenerateCache(t *testing.T) {
	state, cfg := fixture.ExampleState(t)
	var cache metadata.Cache
	same := func(what string, state *rel.State, cfg *config.Config) {
		t.Helper()
		got, err := metadata.Generate(state, cfg, &cache)
		if err != nil {
			t.Fatal(err)
		}
		want, err := metadata.Generate(state, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, want, func(a, b view.File) bool { return a.Path == b.Path && string(a.Data) == string(b.Data) }) {
			t.Errorf("%s: the cached outputs differ from fresh ones", what)
		}
	}
	same("first", state, cfg)
	same("again", state, cfg)
	// The stable stream without its newest build.
	st := state.Stream("stable")
	st.Builds = st.Builds[1:]
	same("a stream changed", state, cfg)
	moved := *cfg
	moved.DownloadsURL = "https://mirror.example.org/atomic/"
	same("the config changed", state, &moved)
}
