// Package synth writes synthetic, signed release histories: small ones for
// focused tests, large ones for benchmarks. Everything it writes is a valid
// manifest, signed like the release pipeline signs.
package synth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/projectatomic/atomic-site/internal/atomicfile"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// Signer signs file contents; *trust.Signer is one.
type Signer interface {
	Sign(data []byte) ([]byte, error)
}

var _ Signer = (*trust.Signer)(nil)

// formats are the artifacts of one architecture, as Atomic Host ships them.
var formats = []struct{ platform, format, role string }{
	{"qemu", "qcow2", "disk"},
	{"metal", "raw.xz", "disk"},
	{"metal", "iso", "disk"},
	{"metal", "pxe", "kernel"},
	{"metal", "pxe", "initramfs"},
	{"metal", "pxe", "rootfs"},
	{"vagrant", "vagrant-libvirt", "disk"},
	{"vagrant", "vagrant-virtualbox", "disk"},
}

// Build returns a released build of stream with every format of each arch.
func Build(stream, release string, date time.Time, arches ...string) *manifest.Build {
	if len(arches) == 0 {
		arches = []string{"x86_64"}
	}
	d := date.UTC()
	b := &manifest.Build{
		Schema:        manifest.BuildSchema,
		Stream:        stream,
		Release:       release,
		Title:         "Fedora Atomic Host " + stream,
		BuildDate:     &d,
		Status:        manifest.StatusReleased,
		OSTree:        &manifest.OSTree{Repo: "https://dl.example.org/atomic/repo/", Ref: "fedora/28/x86_64/atomic-host", Commit: Sum("commit " + release)},
		Architectures: map[string]*manifest.Architecture{},
	}
	for _, arch := range arches {
		a := &manifest.Architecture{Media: map[string]*manifest.Platform{}}
		for i, f := range formats {
			p := a.Media[f.platform]
			if p == nil {
				p = &manifest.Platform{Artifacts: map[string]manifest.Format{}}
				a.Media[f.platform] = p
			}
			if p.Artifacts[f.format] == nil {
				p.Artifacts[f.format] = manifest.Format{}
			}
			name := fmt.Sprintf("%s/Fedora-AtomicHost-%s.%s.%s-%s", arch, release, arch, f.format, f.role)
			size := int64(100_000_000 + i*1_000_003)
			p.Artifacts[f.format][f.role] = &manifest.Artifact{Location: name, Size: &size, SHA256: Sum(name), Signature: name + ".sig"}
		}
		a.Media["aws"] = &manifest.Platform{Images: map[string]manifest.Image{
			"us-east-1": {Image: "ami-" + Sum(release + arch)[:8]},
			"eu-west-1": {Image: "ami-" + Sum(release + arch + "eu")[:8]},
		}}
		b.Architectures[arch] = a
	}
	return b
}

// Failed marks b as failed, tracked by tracker.
func Failed(b *manifest.Build, tracker string) *manifest.Build {
	b.Status = manifest.StatusFailed
	b.FailureTracker = tracker
	return b
}

// Sum is a stable fake sha256 for a name.
func Sum(name string) string {
	h := sha256.Sum256([]byte(name))
	return hex.EncodeToString(h[:])
}

// WriteBuild writes and signs dir/<stream>/<release>.json.
func WriteBuild(dir string, s Signer, b *manifest.Build) error {
	return write(filepath.Join(dir, b.Stream, b.Release+".json"), s, b)
}

// WriteRelease writes a signed release of stream, made at date, into a
// release tree: its manifest, and a small file for each artifact it names
// (the x86_64 qcow2 with a detached signature beside it), each with the
// size and sha256 the manifest signs.
func WriteRelease(dir string, s Signer, stream, release string, date time.Time) error {
	b := Build(stream, release, date)
	for arch, a := range b.Architectures {
		for _, p := range a.Media {
			for format, f := range p.Artifacts {
				for _, art := range f {
					data := []byte("image " + art.Location)
					p := filepath.Join(dir, stream, filepath.FromSlash(art.Location))
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						return err
					}
					if err := os.WriteFile(p, data, 0o644); err != nil {
						return err
					}
					sum := sha256.Sum256(data)
					size := int64(len(data))
					art.SHA256, art.Size = hex.EncodeToString(sum[:]), &size
					art.Signature = ""
					if arch == "x86_64" && format == "qcow2" {
						art.Signature = art.Location + ".sig"
						if err := os.WriteFile(p+".sig", []byte("signature of "+art.Location), 0o644); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return WriteBuild(dir, s, b)
}

// WriteRevocation writes and signs dir/<stream>/<release>.revoked.json.
func WriteRevocation(dir string, s Signer, stream, release, reason string, at time.Time) error {
	r := &manifest.Revocation{Schema: manifest.RevocationSchema, Stream: stream, Release: release, Reason: reason, RevokedAt: at.UTC()}
	return write(filepath.Join(dir, stream, release+manifest.RevocationSuffix), s, r)
}

func write(path string, s Signer, v any) error {
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	sig, err := s.Sign(data)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteAll(
		atomicfile.File{Path: path + trust.SigSuffix, Data: sig, Perm: 0o644},
		atomicfile.File{Path: path, Data: data, Perm: 0o644},
	)
}

// Spec describes a large history for benchmarks.
type Spec struct {
	Streams []string
	Builds  int // in all, spread over the streams
	Arches  []string
	Start   time.Time
	// Every FailEvery-th build fails and every RevokeEvery-th is revoked
	// (0: none).
	FailEvery, RevokeEvery int
}

// History writes a signed history as spec says, one build a day per
// stream, and returns the release ids it wrote.
func History(dir string, s Signer, spec Spec) ([]string, error) {
	var ids []string
	for i := range spec.Builds {
		stream := spec.Streams[i%len(spec.Streams)]
		day := spec.Start.AddDate(0, 0, i/len(spec.Streams))
		rel := fmt.Sprintf("28.%s.%d", day.Format("20060102"), i%len(spec.Streams))
		b := Build(stream, rel, day, spec.Arches...)
		if spec.FailEvery > 0 && i%spec.FailEvery == spec.FailEvery-1 {
			Failed(b, fmt.Sprintf("https://bugzilla.example.org/show_bug.cgi?id=%d", 1000000+i))
		}
		if err := WriteBuild(dir, s, b); err != nil {
			return nil, err
		}
		if spec.RevokeEvery > 0 && i%spec.RevokeEvery == spec.RevokeEvery-1 && !b.Failed() {
			if err := WriteRevocation(dir, s, stream, rel, fmt.Sprintf("https://bugzilla.example.org/show_bug.cgi?id=%d", 2000000+i), day.Add(30*time.Hour)); err != nil {
				return nil, err
			}
		}
		ids = append(ids, stream+"/"+rel)
	}
	return ids, nil
}
