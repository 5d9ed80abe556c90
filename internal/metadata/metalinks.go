package metadata

import (
	"fmt"
	"path"
	"strings"

	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/metalink"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/view"
)

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
