// Package sitemap keeps a site's sitemap within the protocol's limits:
// past 50,000 URLs, sitemap.xml becomes a sitemap index of files of at
// most that many (https://www.sitemaps.org/protocol.html#index).
package sitemap

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/projectatomic/atomic-site/internal/atomicfile"
)

// MaxURLs is the most URLs one sitemap file may hold.
const MaxURLs = 50000

type urlset struct {
	XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []url    `xml:"url"`
}

type url struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

type index struct {
	XMLName  xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 sitemapindex"`
	Sitemaps []url    `xml:"sitemap"`
}

// Split rewrites dir/sitemap.xml as an index of dir/sitemap-N.xml files of
// at most limit URLs each when it holds more than limit; baseURL is the
// site's, for the index's absolute locations. Parts of an earlier split
// that are no longer needed are removed. It reports how many files the
// URLs went into (1: left as it was).
func Split(dir, baseURL string, limit int) (int, error) {
	path := filepath.Join(dir, "sitemap.xml")
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var set urlset
	if err := xml.Unmarshal(data, &set); err != nil {
		var idx index
		if xml.Unmarshal(data, &idx) == nil {
			return len(idx.Sitemaps), nil // split already, and not rewritten since
		}
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	parts := 0
	if len(set.URLs) > limit {
		parts = (len(set.URLs) + limit - 1) / limit
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
	if parts == 0 {
		return 1, nil
	}
	var idx index
	for i := range parts {
		part := urlset{URLs: set.URLs[i*limit : min((i+1)*limit, len(set.URLs))]}
		name := fmt.Sprintf("sitemap-%d.xml", i+1)
		if err := write(filepath.Join(dir, name), part); err != nil {
			return 0, err
		}
		last := ""
		for _, u := range part.URLs {
			last = max(last, u.LastMod)
		}
		idx.Sitemaps = append(idx.Sitemaps, url{Loc: strings.TrimSuffix(baseURL, "/") + "/" + name, LastMod: last})
	}
	return len(idx.Sitemaps), write(path, idx)
}

func write(path string, v any) error {
	data, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append([]byte(xml.Header), append(data, '\n')...), 0o644)
}
