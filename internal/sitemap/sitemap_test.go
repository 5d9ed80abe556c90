package sitemap_test

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/sitemap"
)

func urls(n int) []sitemap.URL {
	var u []sitemap.URL
	for i := range n {
		u = append(u, sitemap.URL{Loc: fmt.Sprintf("https://example.org/p%d/?a=1&b=2", i), LastMod: fmt.Sprintf("2018-06-%02d", 1+i%28)})
	}
	return u
}

// Past the limit, the sitemap is an index of parts that hold every URL
// once; at or under it, one file, and parts of an earlier split go.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	n, err := sitemap.Write(dir, "https://example.org/", urls(7), 3)
	if err != nil || n != 3 {
		t.Fatalf("Write = %d, %v; want 3 parts", n, err)
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

	// A rebuild with fewer URLs: one sitemap again, which parses, with its
	// locations escaped; no stale parts.
	if n, err := sitemap.Write(dir, "https://example.org/", urls(3), 3); err != nil || n != 1 {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if parts, _ := filepath.Glob(filepath.Join(dir, "sitemap-*.xml")); len(parts) != 0 {
		t.Errorf("stale parts left: %v", parts)
	}
	var set struct {
		URLs []sitemap.URL `xml:"url"`
	}
	data, _ = os.ReadFile(filepath.Join(dir, "sitemap.xml"))
	if err := xml.Unmarshal(data, &set); err != nil || len(set.URLs) != 3 || !reflect.DeepEqual(set.URLs[2], urls(3)[2]) {
		t.Errorf("sitemap: %v, %+v\n%s", err, set.URLs, data)
	}
}
