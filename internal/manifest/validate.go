package manifest

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

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
