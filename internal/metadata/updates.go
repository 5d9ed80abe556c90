package metadata

import (
	"slices"
	"time"

	fcosstream "github.com/coreos/stream-metadata-go/stream"

	"github.com/projectatomic/atomic-site/internal/release"
)

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
