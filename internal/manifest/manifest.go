// Package manifest reads the signed files the release pipeline writes: build
// manifests (atomic-release/v1, a superset of Fedora CoreOS release.json) and
// revocations (atomic-revocation/v1). It validates them strictly, so that
// everything later stages see is well-formed; it does not check signatures.
package manifest

import (
	"encoding/json"
	"errors"
	"iter"
	"strings"
	"time"
)

// Schema identifiers, as written in the "schema" field.
const (
	BuildSchema      = "atomic-release/v1"
	RevocationSchema = "atomic-revocation/v1"
)

// Build statuses.
const (
	StatusReleased = "released"
	StatusFailed   = "failed"
)

// RevocationSuffix ends the file name of a revocation.
const RevocationSuffix = ".revoked.json"

// ErrInvalid is wrapped by every validation error, so callers can tell a bad
// file from an I/O failure.
var ErrInvalid = errors.New("invalid manifest")

// FieldError says which file and which field failed validation.
type FieldError struct {
	File  string // as given to Parse
	Field string // dotted JSON path; empty for the file as a whole
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.File + ": " + e.Msg
	}
	return e.File + ": " + e.Field + ": " + e.Msg
}

// Is makes errors.Is(err, ErrInvalid) true for every FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Build is one build of a stream, as its manifest describes it.
type Build struct {
	Schema         string                   `json:"schema,omitempty"`
	Stream         string                   `json:"stream"`
	Release        string                   `json:"release"`
	Title          string                   `json:"title,omitempty"`
	BuildDate      *time.Time               `json:"build-date,omitempty"`
	Status         string                   `json:"status,omitempty"`
	Tests          string                   `json:"tests,omitempty"`
	FailureTracker string                   `json:"failure-tracker,omitempty"`
	Notes          string                   `json:"notes,omitempty"`
	OSTree         *OSTree                  `json:"ostree,omitempty"`
	PromotedFrom   *PromotedFrom            `json:"promoted-from,omitempty"`
	Architectures  map[string]*Architecture `json:"architectures"`

	// Date orders builds: BuildDate, or the date inside the release string.
	Date time.Time `json:"-"`
}

// OSTree names the commit a build was made from, for `rpm-ostree rebase`.
type OSTree struct {
	Repo   string `json:"repo,omitempty"`
	Ref    string `json:"ref"`
	Commit string `json:"commit"`
}

// PromotedFrom says that a build of a release stream is a candidate of
// another stream, promoted on a release day: which one, by the sha256 of
// the candidate manifest's exact bytes, and when.
type PromotedFrom struct {
	Stream     string    `json:"stream"`
	Release    string    `json:"release"`
	SHA256     string    `json:"sha256"`
	PromotedAt time.Time `json:"promoted-at"`
}

// Architecture holds the media of one CPU architecture. Commit and OCIImage
// are what Fedora CoreOS writes beside media; they are kept, not required.
type Architecture struct {
	Media    map[string]*Platform `json:"media"`
	Commit   string               `json:"commit,omitempty"`
	OCIImage *OCIImage            `json:"oci-image,omitempty"`
}

// OCIImage is the container image a Fedora CoreOS build was also shipped as.
type OCIImage struct {
	Image     string `json:"image"`
	DigestRef string `json:"digest-ref,omitempty"`
}

// Platform is one target (qemu, metal, aws, …): downloadable artifacts per
// format, and cloud images per region.
type Platform struct {
	Artifacts map[string]Format `json:"artifacts,omitempty"`
	Images    map[string]Image  `json:"images,omitempty"`
	// Image is the single cloud image some platforms (gcp, kubevirt) name.
	Image json.RawMessage `json:"image,omitempty"`
}

// Format maps a file role ("disk", or "kernel"/"initramfs"/"rootfs" for PXE)
// to the file.
type Format map[string]*Artifact

// Artifact is one downloadable file.
type Artifact struct {
	Location           string `json:"location"`
	Size               *int64 `json:"size,omitempty"`
	SHA256             string `json:"sha256"`
	UncompressedSHA256 string `json:"uncompressed-sha256,omitempty"`
	Signature          string `json:"signature,omitempty"`
}

// Image is a cloud image in one region.
type Image struct {
	Image string `json:"image"`
}

// Revocation withdraws a published build.
type Revocation struct {
	Schema    string    `json:"schema"`
	Stream    string    `json:"stream"`
	Release   string    `json:"release"`
	Reason    string    `json:"reason"`
	RevokedAt time.Time `json:"revoked-at"`
}

// File is what a manifest file holds: exactly one of Build and Revocation.
type File struct {
	Name       string
	Build      *Build
	Revocation *Revocation
}

// DateFromRelease finds the YYYYMMDD date in a release string such as
// "22.20150616.0" or "33.20201201.3.0" (the second dotted field).
func DateFromRelease(release string) (time.Time, bool) {
	parts := strings.Split(release, ".")
	if len(parts) < 2 || len(parts[1]) != 8 {
		return time.Time{}, false
	}
	d, err := time.Parse("20060102", parts[1])
	if err != nil {
		return time.Time{}, false
	}
	return d, true
}

// Failed reports whether the build failed its tests.
func (b *Build) Failed() bool { return b.Status == StatusFailed }

// Placed is one artifact of a build with where it sits.
type Placed struct {
	Arch, Platform, Format, Role string
	*Artifact
}

// Files yields every artifact of the build in a stable order: by
// architecture, platform, format and role names.
func (b *Build) Files() iter.Seq[Placed] {
	return func(yield func(Placed) bool) {
		for _, arch := range sortedKeys(b.Architectures) {
			a := b.Architectures[arch]
			for _, pname := range sortedKeys(a.Media) {
				p := a.Media[pname]
				for _, fname := range sortedKeys(p.Artifacts) {
					for _, role := range sortedKeys(p.Artifacts[fname]) {
						if !yield(Placed{Arch: arch, Platform: pname, Format: fname, Role: role, Artifact: p.Artifacts[fname][role]}) {
							return
						}
					}
				}
			}
		}
	}
}
