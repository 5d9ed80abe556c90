package metadata

import (
	"encoding/json"
	"time"

	fcosstream "github.com/coreos/stream-metadata-go/stream"

	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/release"
)

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
