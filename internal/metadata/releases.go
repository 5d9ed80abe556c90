package metadata

import (
	"maps"
	"slices"
	"strings"
	"time"

	fcosrelease "github.com/coreos/stream-metadata-go/release"

	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/view"
)

// ReleaseIndex is Fedora CoreOS's release index, with where each promoted
// release came from.
type ReleaseIndex struct {
	Note     string               `json:"note"`
	Releases []IndexRelease       `json:"releases"`
	Metadata fcosrelease.Metadata `json:"metadata"`
	Stream   string               `json:"stream"`
}

// IndexRelease is one release of the index: Fedora CoreOS's fields, and
// promoted-from for a release promoted from a candidate stream.
type IndexRelease struct {
	fcosrelease.IndexRelease
	PromotedFrom *IndexPromotion `json:"promoted-from,omitempty"`
}

// IndexPromotion names the candidate a release was promoted from, as its
// manifest does: the stream, the release and the sha256 of the candidate
// manifest's exact bytes.
type IndexPromotion struct {
	Stream     string `json:"stream"`
	Release    string `json:"release"`
	SHA256     string `json:"sha256"`
	PromotedAt string `json:"promoted-at"`
}

// NewReleaseIndex lists every build that passed its tests, revoked ones
// too (the update graph says where not to go), oldest first.
func NewReleaseIndex(st *release.Stream, cfg *config.Config) ReleaseIndex {
	idx := ReleaseIndex{
		Note:     "For tools that follow releases. Installers should read the stream metadata, streams/" + st.Name + ".json.",
		Releases: []IndexRelease{},
		Metadata: fcosrelease.Metadata{LastModified: lastModified(st).Format(time.RFC3339)},
		Stream:   st.Name,
	}
	for _, b := range slices.Backward(st.Builds) {
		if b.Failed() {
			continue
		}
		r := IndexRelease{IndexRelease: fcosrelease.IndexRelease{Version: b.Release, MetadataURL: cfg.SiteURL(view.ManifestURL(b.Path))}}
		if p := b.PromotedFrom; p != nil {
			r.PromotedFrom = &IndexPromotion{Stream: p.Stream, Release: p.Release, SHA256: p.SHA256, PromotedAt: p.PromotedAt.UTC().Format(time.RFC3339)}
		}
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
