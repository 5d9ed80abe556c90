package sitemap_test

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/sitemap"
)

func write(t *testing.T, dir string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8" standalone="yes"?>` + "\n")
	b.WriteString(`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">` + "\n")
	for i := range n {
		fmt.Fprintf(&b, "<url><loc>https://example.org/p%d/</loc><lastmod>2018-06-%02d</lastmod></url>\n", i, 1+i%28)
	}
	b.WriteString("</urlset>\n")
	if err := os.WriteFile(filepath.Join(dir, "sitemap.xml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Past the limit, the sitemap becomes an index of parts that hold every URL
// once; at or under it, it is left alone, and parts of an earlier split go.
func TestSplit(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, 7)
	n, err := sitemap.Split(dir, "https://example.org/", 3)
	if err != nil || n != 3 {
		t.Fatalf("Split = %d, %v; want 3 parts", n, err)
	}
	var idx struct {
		Sitemaps []struct {
			Loc     string `xml:"loc"`
			LastMod string `xml:"lastmod"`
		} `xml:"sitemap"`
	}
	data, _ := os.ReadFile(filepath.Join(dir, "sitemap.xml"))
	if err := xml.Unmarshal(data, &idx); err != nil || len(idx.Sitemaps) != 3 || !strings.Contains(string(data), "<sitemapindex") {
		t.Fatalf("index: %v\n%s", err, data)
	}
	seen := map[string]bool{}
	for i, s := range idx.Sitemaps {
		if want := fmt.Sprintf("https://example.org/sitemap-%d.xml", i+1); s.Loc != want || s.LastMod == "" {
			t.Errorf("index entry %d = %+v, want %s with a lastmod", i, s, want)
		}
		var part struct {
			URLs []struct {
				Loc string `xml:"loc"`
			} `xml:"url"`
		}
		data, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("sitemap-%d.xml", i+1)))
		if err := xml.Unmarshal(data, &part); err != nil || len(part.URLs) > 3 {
			t.Fatalf("part %d: %v, %d URLs", i+1, err, len(part.URLs))
		}
		for _, u := range part.URLs {
			if seen[u.Loc] {
				t.Errorf("%s in two parts", u.Loc)
			}
			seen[u.Loc] = true
		}
	}
	if len(seen) != 7 {
		t.Errorf("%d URLs in the parts, want 7", len(seen))
	}

	// Split again without a rebuild: the index stays.
	if n, err := sitemap.Split(dir, "https://example.org/", 3); err != nil || n != 3 {
		t.Fatalf("Split of an index = %d, %v; want it left, 3 parts", n, err)
	}

	// A rebuild with fewer URLs: one sitemap again, no stale parts.
	write(t, dir, 3)
	if n, err := sitemap.Split(dir, "https://example.org/", 3); err != nil || n != 1 {
		t.Fatalf("Split = %d, %v", n, err)
	}
	if parts, _ := filepath.Glob(filepath.Join(dir, "sitemap-*.xml")); len(parts) != 0 {
		t.Errorf("stale parts left: %v", parts)
	}
}
