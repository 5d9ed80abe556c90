// Package metalink writes Metalink 4 files (RFC 5854): one file's size,
// sha256 and every mirror's URL, so that a download manager (aria2, curl,
// a browser extension) falls back from a dead mirror and checks what it
// got.
package metalink

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
)

// Mirror is a download mirror, as the site's config lists them.
type Mirror struct {
	Name     string `toml:"name"`
	BaseURL  string `toml:"base-url"`
	Country  string `toml:"country"`  // ISO 3166-1 alpha-2, lower case
	Priority int    `toml:"priority"` // 1 is tried first
}

// URL is one place to download the file from.
type URL struct {
	Location string // ISO 3166-1 alpha-2, lower case
	Priority int    // 1 is tried first
	URL      string
}

// Write returns the Metalink of one file. size 0 means unknown. It is
// written by hand, not by encoding/xml: a site writes one per file of
// every build, tens of thousands, and reflection made them cost more than
// the pages.
func Write(name string, size int64, sha256 string, urls []URL) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, "/\\") {
		return nil, fmt.Errorf("metalink: bad file name %q", name)
	}
	if len(urls) == 0 {
		return nil, fmt.Errorf("metalink: %s: no URL", name)
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<metalink xmlns="urn:ietf:params:xml:ns:metalink">` + "\n")
	b.WriteString(`  <file name="`)
	xml.EscapeText(&b, []byte(name))
	b.WriteString("\">\n")
	if size > 0 {
		fmt.Fprintf(&b, "    <size>%d</size>\n", size)
	}
	b.WriteString(`    <hash type="sha-256">`)
	xml.EscapeText(&b, []byte(sha256))
	b.WriteString("</hash>\n")
	for _, u := range urls {
		b.WriteString("    <url")
		if u.Location != "" {
			b.WriteString(` location="`)
			xml.EscapeText(&b, []byte(u.Location))
			b.WriteString(`"`)
		}
		if u.Priority > 0 {
			fmt.Fprintf(&b, ` priority="%d"`, u.Priority)
		}
		b.WriteString(">")
		xml.EscapeText(&b, []byte(u.URL))
		b.WriteString("</url>\n")
	}
	b.WriteString("  </file>\n</metalink>\n")
	return b.Bytes(), nil
}

// URLs lists where a file is: at url itself, first, and, when url lies
// below primary (the downloads URL the mirrors copy), at the same path
// below each mirror.
func URLs(url, primary string, mirrors []Mirror) []URL {
	out := []URL{{URL: url, Priority: 1}}
	rel, ok := strings.CutPrefix(url, strings.TrimSuffix(primary, "/")+"/")
	if primary == "" || !ok {
		return out
	}
	for _, m := range mirrors {
		u := strings.TrimSuffix(m.BaseURL, "/") + "/" + rel
		if u == url {
			continue
		}
		out = append(out, URL{URL: u, Location: m.Country, Priority: max(m.Priority, 1)})
	}
	return out
}
