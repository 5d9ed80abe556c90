package view_test

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/testkit/fixture"
	"github.com/projectatomic/atomic-site/internal/view"
)

func TestPaths(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{view.StreamURL("stable"), "/streams/stable/"},
		{view.BuildURL("stable", "28.1"), "/streams/stable/28.1/"},
		{view.ChecksumURL("stable", "28.1"), "/streams/stable/28.1/CHECKSUM"},
		{view.ManifestURL("stable/28.1.json"), "/manifests/stable/28.1.json"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// A build's files are in the order visitors look for them: common disk
// images first, installers after, PXE's files in boot order.
func TestBuildOrder(t *testing.T) {
	state, cfg := fixture.ExampleState(t)
	st := state.Stream("stable")
	b, err := view.NewBuild(st, st.Current, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Arches) != 1 || b.Arches[0].Name != "x86_64" {
		t.Fatalf("arches = %v, want x86_64 alone", b.Arches)
	}
	var got []string
	for _, a := range b.Arches[0].Artifacts {
		if a.Arch != "x86_64" {
			t.Errorf("%s: Arch %q, want x86_64", a.Name, a.Arch)
		}
		got = append(got, a.Platform+" "+a.Format+" "+a.Role)
	}
	want := []string{
		"qemu qcow2 disk",
		"metal raw.xz disk",
		"vagrant vagrant-libvirt disk",
		"vagrant vagrant-virtualbox disk",
		"metal iso disk",
		"metal pxe kernel",
		"metal pxe initramfs",
		"metal pxe rootfs",
	}
	if !slices.Equal(got, want) {
		t.Errorf("files in order %q\nwant %q", got, want)
	}
	if b.Notes == "" || b.NotesHTML == "" {
		t.Errorf("full view: notes %q, HTML %q; want both", b.Notes, b.NotesHTML)
	}
	if lines := view.ChecksumLines(st.Current.Build.Build, cfg); len(lines) != len(want) {
		t.Errorf("%d CHECKSUM lines, want %d", len(lines), len(want))
	}
}

// A GCE image (gcp.image, as Fedora CoreOS writes it) is shown beside the
// AMIs, with the gcloud line that starts an instance of it.
func TestGCEImage(t *testing.T) {
	state, cfg := fixture.ExampleState(t)
	st := state.Stream("stable")
	b := *st.Current
	cb := *b.Build
	mb := *cb.Build
	mb.Architectures = map[string]*manifest.Architecture{"x86_64": {Media: map[string]*manifest.Platform{
		"gcp": {Image: json.RawMessage(`{"project":"fedora-coreos-cloud","family":"fedora-coreos-stable","name":"fedora-coreos-33-20201201-3-0-gcp-x86-64"}`)},
	}}}
	cb.Build, b.Build = &mb, &cb
	v, err := view.NewBuild(st, &b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	imgs := v.Arches[0].Images
	want := "gcloud compute instances create NAME --image-project fedora-coreos-cloud --image-family fedora-coreos-stable"
	if len(imgs) != 1 || imgs[0].Platform != "gcp" || imgs[0].Image != "fedora-coreos-33-20201201-3-0-gcp-x86-64" || imgs[0].Command != want {
		t.Errorf("images = %+v, want the GCE image with %q", imgs, want)
	}
}

// A release promoted from a candidate stream links its candidate, and its
// stale warning's failure is a candidate: each links its own stream's page.
func TestPromotedLinks(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2018, 6, d, 6, 0, 0, 0, time.UTC) }
	build := func(stream, rel string, d int, failed bool) *catalog.Build {
		m := &manifest.Build{Stream: stream, Release: rel, Status: manifest.StatusReleased, Date: day(d)}
		if failed {
			m.Status, m.FailureTracker = manifest.StatusFailed, "https://bugzilla.example.org/"+rel
		}
		return &catalog.Build{Build: m, Signed: catalog.Signed{Path: stream + "/" + rel + ".json", SHA256: strings.Repeat("a", 63) + strconv.Itoa(d%10)}}
	}
	cand, failed := build("testing", "28.1", 1, false), build("testing", "28.2", 2, true)
	rel := build("stable", "28.1", 1, false)
	rel.PromotedFrom = &manifest.PromotedFrom{Stream: "testing", Release: "28.1", SHA256: cand.SHA256, PromotedAt: day(3)}
	state, err := release.Compute(&catalog.Catalog{Builds: []*catalog.Build{cand, failed, rel}}, release.Options{Now: day(30)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	sv, err := view.NewStream(state.Stream("stable"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !sv.Stale || sv.Failure == nil || sv.Failure.URL != "/streams/testing/28.2/" {
		t.Errorf("stale %v, failure %+v; want the testing failure, linked under /streams/testing/", sv.Stale, sv.Failure)
	}
	p := sv.Current.PromotedFrom
	if p == nil || p.URL != "/streams/testing/28.1/" || p.SHA256 != cand.SHA256 || p.At != "2018-06-03" {
		t.Errorf("promoted from %+v; want testing 28.1, its sha256, 2018-06-03", p)
	}
}
