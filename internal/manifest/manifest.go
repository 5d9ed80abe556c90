// Package manifest reads the signed files the release pipeline writes: build
// manifests (atomic-release/v1, a superset of Fedora CoreOS release.json) and
// revocations (atomic-revocation/v1). It validates them strictly, so that
// everything later stages see is well-formed; it does not check signatures.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
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

// Parse reads one manifest file. name is used in errors and decides nothing
// but this: a name ending in ".revoked.json" must hold a revocation, any
// other must hold a build. The schema field says which is which; a file
// without one is read as a build, which is how a Fedora CoreOS release.json
// is a valid manifest as it stands.
func Parse(name string, data []byte) (*File, error) {
	// One decode into a build serves both kinds: a revocation shares its
	// identifying fields, and it is the rare case that decodes again.
	var b Build
	if err := decodeStrict(name, data, &b); err != nil {
		return nil, err
	}
	wantRevocation := strings.HasSuffix(name, RevocationSuffix)
	switch {
	case b.Schema == RevocationSchema:
		if !wantRevocation {
			return nil, invalid(name, "schema", "%q belongs in a file named <release>%s", b.Schema, RevocationSuffix)
		}
		r, err := parseRevocation(name, data)
		if err != nil {
			return nil, err
		}
		return &File{Name: name, Revocation: r}, nil
	case wantRevocation:
		return nil, invalid(name, "schema", "must be %q in a revocation file", RevocationSchema)
	case b.Schema == BuildSchema || b.Schema == "":
		if err := validateBuild(name, &b); err != nil {
			return nil, err
		}
		return &File{Name: name, Build: &b}, nil
	default:
		return nil, invalid(name, "schema", "unknown schema %q (want %q or %q)", b.Schema, BuildSchema, RevocationSchema)
	}
}

// ParseBuild is Parse for a file that must hold a build.
func ParseBuild(name string, data []byte) (*Build, error) {
	f, err := Parse(name, data)
	if err != nil {
		return nil, err
	}
	if f.Build == nil {
		return nil, invalid(name, "schema", "want a build manifest, found a revocation")
	}
	return f.Build, nil
}

func decodeStrict(name string, data []byte, v any) error {
	if err := checkShape(name, data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return invalid(name, fullPath(data, te), "want a JSON %s, found %s", goKindToJSON(te.Type.Kind()), te.Value)
		}
		var pe *time.ParseError
		if errors.As(err, &pe) {
			return invalid(name, "", "bad time %q: want RFC 3339, like 2015-06-16T04:10:00Z", pe.Value)
		}
		return invalid(name, "", "%v", err)
	}
	if dec.More() {
		return invalid(name, "", "extra data after the JSON object")
	}
	return nil
}

// fullPath puts back the map keys (architecture, platform, format names)
// that encoding/json leaves out of a type error's field path, by finding
// the first value of the wrong kind along that path in the document.
func fullPath(data []byte, te *json.UnmarshalTypeError) string {
	var doc any
	if te.Field == "" || json.Unmarshal(data, &doc) != nil {
		return te.Field
	}
	var walk func(node any, fields []string, path string) (string, bool)
	walk = func(node any, fields []string, path string) (string, bool) {
		if len(fields) == 0 {
			return path, jsonKind(node) == te.Value
		}
		m, ok := node.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok := m[fields[0]]; ok {
			return walk(v, fields[1:], joinPath(path, fields[0]))
		}
		for _, k := range sortedKeys(m) { // a map level the field path skips
			if p, ok := walk(m[k], fields, joinPath(path, k)); ok {
				return p, true
			}
		}
		return "", false
	}
	if p, ok := walk(doc, strings.Split(te.Field, "."), ""); ok {
		return p
	}
	return te.Field
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func goKindToJSON(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "number"
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

func validateBuild(name string, b *Build) error {
	v := validator{file: name}
	v.id("stream", b.Stream)
	v.id("release", b.Release)
	switch b.Status {
	case "":
		b.Status = StatusReleased
	case StatusReleased, StatusFailed:
	default:
		v.fail("status", "%q is not %q or %q", b.Status, StatusReleased, StatusFailed)
	}
	v.text("title", b.Title, false)
	v.text("notes", b.Notes, true)
	v.optionalURL("tests", b.Tests)
	v.optionalURL("failure-tracker", b.FailureTracker)
	if b.Status == StatusFailed && b.FailureTracker == "" {
		v.fail("failure-tracker", "required when status is %q", StatusFailed)
	}
	if b.BuildDate != nil {
		b.Date = b.BuildDate.UTC()
	} else if d, ok := DateFromRelease(b.Release); ok {
		b.Date = d
	} else if b.Release != "" {
		v.fail("build-date", "missing, and release %q has no YYYYMMDD date to fall back on", b.Release)
	}
	if o := b.OSTree; o != nil {
		v.optionalURL("ostree.repo", o.Repo)
		if o.Ref == "" || strings.ContainsAny(o.Ref, " \t\n") {
			v.fail("ostree.ref", "must be a non-empty ref without spaces")
		}
		v.hex("ostree.commit", o.Commit)
	}
	if p := b.PromotedFrom; p != nil {
		v.id("promoted-from.stream", p.Stream)
		v.id("promoted-from.release", p.Release)
		v.hex("promoted-from.sha256", p.SHA256)
		switch {
		case p.Stream == b.Stream:
			v.fail("promoted-from.stream", "%q is the build's own stream", p.Stream)
		case p.PromotedAt.IsZero():
			v.fail("promoted-from.promoted-at", "required (RFC 3339 time)")
		}
		p.PromotedAt = p.PromotedAt.UTC()
	}
	if len(b.Architectures) == 0 && b.Status == StatusReleased {
		v.fail("architectures", "a released build needs at least one architecture")
	}
	for _, arch := range sortedKeys(b.Architectures) {
		v.architecture("architectures."+arch, arch, b.Architectures[arch])
	}
	return v.err
}

func parseRevocation(name string, data []byte) (*Revocation, error) {
	var r Revocation
	if err := decodeStrict(name, data, &r); err != nil {
		return nil, err
	}
	v := validator{file: name}
	v.id("stream", r.Stream)
	v.id("release", r.Release)
	if r.Reason == "" {
		v.fail("reason", "required: the URL that says why the build was withdrawn")
	} else {
		v.optionalURL("reason", r.Reason)
	}
	if r.RevokedAt.IsZero() {
		v.fail("revoked-at", "required (RFC 3339 time)")
	}
	r.RevokedAt = r.RevokedAt.UTC()
	if v.err != nil {
		return nil, v.err
	}
	return &r, nil
}

// validator keeps the first error; later checks are no-ops after it, so
// the user fixes one field at a time, in a stable order.
type validator struct {
	file string
	err  error
}

func (v *validator) fail(field, format string, args ...any) {
	if v.err == nil {
		v.err = invalid(v.file, field, format, args...)
	}
}

// idPattern keeps names that become URL path segments and file names safe.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

func (v *validator) id(field, s string) {
	switch {
	case s == "":
		v.fail(field, "required")
	case !idPattern.MatchString(s) || strings.Contains(s, ".."):
		v.fail(field, "%q: only letters, digits and . _ + - are allowed", s)
	}
}

func (v *validator) optionalURL(field, s string) {
	v.text(field, s, false)
	if s != "" && !IsHTTPURL(s) {
		v.fail(field, "%q is not an absolute http(s) URL", s)
	}
}

// text refuses control characters (but newlines and tabs in multi-line
// text) and the invisible characters that reorder text (bidi overrides,
// isolates and marks), which can make a page say what its bytes do not.
func (v *validator) text(field, s string, multiline bool) {
	for i, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\t' || r == '\r'):
		case unicode.IsControl(r):
			v.fail(field, "control character %U at byte %d", r, i)
			return
		case bidi(r):
			v.fail(field, "bidirectional formatting character %U at byte %d", r, i)
			return
		}
	}
}

func bidi(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

func (v *validator) hex(field, s string) {
	if !IsSHA256(s) {
		v.fail(field, "%q is not 64 lowercase hex digits", s)
	}
}

// location accepts an absolute http(s) URL or a path relative to the
// stream directory that does not climb out of it.
func (v *validator) location(field, s string) {
	switch {
	case s == "":
		v.fail(field, "required")
	case strings.Contains(s, "://"):
		v.optionalURL(field, s)
	case strings.HasPrefix(s, "/") || strings.Contains(s, `\`):
		v.fail(field, "%q: a relative location must be a path below the stream directory", s)
	case strings.Contains(strings.SplitN(s, "/", 2)[0], ":"):
		// javascript:alert(1)//, data:text/html,…: a browser reads the
		// first segment as a scheme, whatever base URL it is put under.
		v.fail(field, "%q is neither an http(s) URL nor a relative path: its first segment reads as a scheme", s)
	default:
		v.text(field, s, false)
		for _, seg := range strings.Split(s, "/") {
			if seg == ".." {
				v.fail(field, "%q climbs out of the stream directory with ..", s)
				return
			}
		}
		if _, err := url.Parse(s); err != nil {
			v.fail(field, "%q: %v", s, err)
		}
	}
}

func (v *validator) architecture(field, arch string, a *Architecture) {
	v.id(field, arch)
	if a == nil {
		v.fail(field, "must be an object")
		return
	}
	if a.Commit != "" {
		v.hex(field+".commit", a.Commit)
	}
	for _, pname := range sortedKeys(a.Media) {
		pf := field + ".media." + pname
		v.id(pf, pname)
		p := a.Media[pname]
		if p == nil {
			v.fail(pf, "must be an object")
			continue
		}
		for _, fname := range sortedKeys(p.Artifacts) {
			ff := pf + ".artifacts." + fname
			v.id(ff, fname)
			if len(p.Artifacts[fname]) == 0 {
				v.fail(ff, "names no files")
			}
			for _, role := range sortedKeys(p.Artifacts[fname]) {
				v.artifact(ff+"."+role, p.Artifacts[fname][role])
			}
		}
		for _, region := range sortedKeys(p.Images) {
			v.id(pf+".images."+region, region)
			v.text(pf+".images."+region+".image", p.Images[region].Image, false)
			if p.Images[region].Image == "" {
				v.fail(pf+".images."+region+".image", "required")
			}
		}
	}
}

func (v *validator) artifact(field string, a *Artifact) {
	if a == nil {
		v.fail(field, "must be an object")
		return
	}
	v.location(field+".location", a.Location)
	v.hex(field+".sha256", a.SHA256)
	if a.UncompressedSHA256 != "" {
		v.hex(field+".uncompressed-sha256", a.UncompressedSHA256)
	}
	if a.Size != nil && *a.Size < 0 {
		v.fail(field+".size", "%d is negative", *a.Size)
	}
	if a.Signature != "" {
		v.location(field+".signature", a.Signature)
	}
}

func sortedKeys[M ~map[string]V, V any](m M) []string { return slices.Sorted(maps.Keys(m)) }

func invalid(file, field, format string, args ...any) error {
	return &FieldError{File: file, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// IsHTTPURL reports whether s is an absolute http or https URL with a host.
func IsHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// IsSHA256 reports whether s is a sha256 digest in lowercase hex.
func IsSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
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
