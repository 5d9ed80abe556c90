package metadata

import (
	"fmt"
	"slices"

	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/view"
)

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
