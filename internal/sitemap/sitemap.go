// Package sitemap writes a site's sitemap within the protocol's limits:
// past 50,000 URLs, sitemap.xml is a sitemap index of files of at most
// that many (https://www.sitemaps.org/protocol.html#index).
package sitemap

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/projectatomic/atomic-site/internal/atomicfile"
)

// MaxURLs is the most URLs one sitemap file may hold.
const MaxURLs = 50000

type index struct {
	XMLName  xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 sitemapindex"`
	Sitemaps []URL    `xml:"sitemap"`
}

// URL is one page of a sitemap: its absolute location and, if known,
// when it last changed (W3C datetime).
type URL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
	// Alternates are the page in each of the site's languages, itself
	// included (https://developers.google.com/search/docs/specialty/international/localized-versions#sitemap).
	Alternates []Alternate `xml:"-"`
}

// Alternate is a page in one language: its BCP 47 tag, or x-default.
type Alternate struct {
	Lang, Href string
}

// Write writes dir/sitemap.xml listing urls, or, past limit URLs, a
// sitemap index of dir/sitemap-N.xml files of at most limit URLs each;
// baseURL is the site's, for the index's absolute locations. Parts of an
// earlier split that are no longer needed are removed. It reports how many
// files the URLs went into (1: no index).
func Write(dir, baseURL string, urls []URL, limit int) (int, error) {
	parts := 0
	if len(urls) > limit {
		parts = (len(urls) + limit - 1) / limit
	}
	old, _ := filepath.Glob(filepath.Join(dir, "sitemap-*.xml"))
	for _, o := range old {
		var n int
		if _, err := fmt.Sscanf(filepath.Base(o), "sitemap-%d.xml", &n); err == nil && n > parts {
			if err := os.Remove(o); err != nil {
				return 0, err
			}
		}
	}
	path := filepath.Join(dir, "sitemap.xml")
	if parts == 0 {
		return 1, atomicfile.Write(path, urlset(urls), 0o644)
	}
	var idx index
	for i := range parts {
		part := urls[i*limit : min((i+1)*limit, len(urls))]
		name := fmt.Sprintf("sitemap-%d.xml", i+1)
		if err := atomicfile.Write(filepath.Join(dir, name), urlset(part), 0o644); err != nil {
			return 0, err
		}
		last := ""
		for _, u := range part {
			last = max(last, u.LastMod)
		}
		idx.Sitemaps = append(idx.Sitemaps, URL{Loc: strings.TrimSuffix(baseURL, "/") + "/" + name, LastMod: last})
	}
	return len(idx.Sitemaps), write(path, idx)
}

// urlset is a sitemap of urls, laid out as Hugo lays out its own.
func urlset(urls []URL) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8" standalone="yes"?>` + "\n")
	b.WriteString(`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"` + "\n" + `  xmlns:xhtml="http://www.w3.org/1999/xhtml">` + "\n")
	for _, u := range urls {
		b.WriteString("  <url>\n    <loc>")
		xml.EscapeText(&b, []byte(u.Loc))
		b.WriteString("</loc>\n")
		if u.LastMod != "" {
			b.WriteString("    <lastmod>")
			xml.EscapeText(&b, []byte(u.LastMod))
			b.WriteString("</lastmod>\n")
		}
		for _, a := range u.Alternates {
			b.WriteString(`    <xhtml:link rel="alternate" hreflang="`)
			xml.EscapeText(&b, []byte(a.Lang))
			b.WriteString(`" href="`)
			xml.EscapeText(&b, []byte(a.Href))
			b.WriteString("\"/>\n")
		}
		b.WriteString("  </url>\n")
	}
	b.WriteString("</urlset>\n")
	return b.Bytes()
}

func write(path string, v any) error {
	data, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append([]byte(xml.Header), append(data, '\n')...), 0o644)
}
