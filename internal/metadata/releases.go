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
