package mirror

import (
	"mime"
	"path"
	"strings"
)

// Cache lifetimes: what is named by its content never changes; pointers
// (refs, summary, manifests) must be seen fresh soon after a sync.
const (
	CacheImmutable = "public, max-age=31536000, immutable"
	CacheMutable   = "public, max-age=60, must-revalidate"
	// CacheRevalidate is for a file and the signature of it that lives
	// in a second file: no cache may keep one longer than the other, so
	// every cache asks again each time (cheaply, with the ETag).
	CacheRevalidate = "no-cache"
)

// signedPair are the files whose signature is a second file.
var signedPair = map[string]bool{"summary": true, "summary.sig": true, "summary.idx": true, "summary.idx.sig": true}

var contentTypes = map[string]string{
	".json":       "application/json",
	".sig":        "application/octet-stream",
	".iso":        "application/x-iso9660-image",
	".xz":         "application/x-xz",
	".gz":         "application/gzip",
	".qcow2":      "application/octet-stream",
	".box":        "application/octet-stream",
	".img":        "application/octet-stream",
	".filez":      "application/octet-stream",
	".dirtree":    "application/octet-stream",
	".dirmeta":    "application/octet-stream",
	".commit":     "application/octet-stream",
	".commitmeta": "application/octet-stream",
	".index":      "application/octet-stream",
}

// Headers returns a file's Content-Type and Cache-Control.
func Headers(f File) (contentType, cacheControl string) {
	cacheControl = CacheImmutable
	switch {
	case signedPair[f.Rel]:
		cacheControl = CacheRevalidate
	case f.Mutable:
		cacheControl = CacheMutable
	}
	base := path.Base(f.Rel)
	ext := path.Ext(base)
	switch {
	case f.Rel == "config" || strings.HasPrefix(f.Rel, "refs/") || base == "CHECKSUM" || strings.HasSuffix(base, "-CHECKSUM"):
		contentType = "text/plain; charset=utf-8"
	case contentTypes[ext] != "":
		contentType = contentTypes[ext]
	case mime.TypeByExtension(ext) != "":
		contentType = mime.TypeByExtension(ext)
	default:
		contentType = "application/octet-stream"
	}
	return contentType, cacheControl
}
