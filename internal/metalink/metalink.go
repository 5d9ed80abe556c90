// Package metalink writes Metalink 4 files (RFC 5854): one file's size,
// sha256 and every mirror's URL, so that a download manager (aria2, curl,
// a browser extension) falls back from a dead mirror and checks what it
// got.
package metalink

import (
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
	Location string `xml:"location,attr,omitempty"`
	Priority int    `xml:"priority,attr,omitempty"`
	URL      string `xml:",chardata"`
}

type hash struct {
	Type string `xml:"type,attr"`
	Sum  string `xml:",chardata"`
}

type file struct {
	Name string `xml:"name,attr"`
	Size int64  `xml:"size,omitempty"`
	Hash hash   `xml:"hash"`
	URLs []URL  `xml:"url"`
}

type metalink struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:metalink metalink"`
	File    file     `xml:"file"`
}

// Write returns the Metalink of one file. size 0 means unknown.
func Write(name string, size int64, sha256 string, urls []URL) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, "/\\") {
		return nil, fmt.Errorf("metalink: bad file name %q", name)
	}
	if len(urls) == 0 {
		return nil, fmt.Errorf("metalink: %s: no URL", name)
	}
	data, err := xml.MarshalIndent(metalink{File: file{Name: name, Size: size, Hash: hash{Type: "sha-256", Sum: sha256}, URLs: urls}}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(data, '\n')...), nil
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
