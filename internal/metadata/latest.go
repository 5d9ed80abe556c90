package metadata

import (
	"bytes"
	"fmt"
	"html/template"
	"slices"
	"strings"

	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/view"
)

// Link is a stable link and where it points now.
type Link struct {
	From, To, Title string
}

// Latest returns the stable links of a stream's current build:
// /latest/<stream>/<arch>/<format> (with -<role> for PXE's kernel,
// initramfs and rootfs). Where two platforms ship one format, the link
// goes to the first in a fixed order, and /latest/<stream>/<arch>/<platform>/<format>
// names each.
func Latest(st *release.Stream, cfg *config.Config) []Link {
	cur := st.Current
	if cur == nil {
		return nil
	}
	// Files() walks arch by arch, platforms in name order; within each
	// arch, the usual homes of a format go first.
	var files []manifest.Placed
	for f := range cur.Files() {
		files = append(files, f)
	}
	first := []string{"qemu", "metal", "vagrant"}
	slices.SortStableFunc(files, func(a, b manifest.Placed) int {
		if c := strings.Compare(a.Arch, b.Arch); c != 0 {
			return c
		}
		return view.Rank(first, a.Platform) - view.Rank(first, b.Platform)
	})
	var links []Link
	taken := map[string]bool{}
	for _, f := range files {
		key := f.Format
		if f.Role != "disk" {
			key += "-" + f.Role
		}
		to := cfg.ArtifactURL(st.Name, f.Location)
		title := fmt.Sprintf("%s %s %s %s", cur.Release, f.Arch, f.Platform, key)
		if k := f.Arch + "/" + key; !taken[k] {
			taken[k] = true
			links = append(links, Link{From: "/latest/" + st.Name + "/" + f.Arch + "/" + key, To: to, Title: title})
		}
		links = append(links, Link{From: "/latest/" + st.Name + "/" + f.Arch + "/" + f.Platform + "/" + key, To: to, Title: title})
	}
	return links
}

var redirectTmpl = template.Must(template.New("redirect").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="0; url={{ .To }}">
<link rel="canonical" href="{{ .To }}">
<title>{{ .Title }}</title>
</head>
<body>
<p>The current file is <a href="{{ .To }}">{{ .Title }}</a>.</p>
</body>
</html>
`))

// redirectPage is the fallback for servers that do not read _redirects.
func redirectPage(l Link) ([]byte, error) {
	var buf bytes.Buffer
	err := redirectTmpl.Execute(&buf, l)
	return buf.Bytes(), err
}
