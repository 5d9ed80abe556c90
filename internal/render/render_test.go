package render

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/view"
)

// Two pages of one directory that change in one rebuild are both read
// again (Hugo v0.165 alone re-reads the first it is told of), and a page
// that is removed takes what it published with it.
func TestRebuildChangesAndRemovals(t *testing.T) {
	s, pub := watchedSite(t)
	files := func(cur string, builds ...string) []view.File {
		headless := `,"build":{"render":"never","list":"never"}}` + "\n"
		f := []view.File{
			{Path: "content/_index.md", Data: []byte(`{"title":"home"}` + "\n")},
			{Path: "content/streams/x/_index.md", Data: []byte(`{"title":"x","layout":"stream","params":{"state":"/state/stream-x"}}` + "\n")},
			{Path: "content/state/_index.md", Data: []byte(`{"title":"state"` + headless)},
			{Path: "content/state/home.md", Data: []byte(`{"title":"h","params":{"home":{"current":"` + cur + `"}}` + headless)},
			{Path: "content/state/stream-x.md", Data: []byte(`{"title":"s","params":{"stream":{"current":"` + cur + `"}}` + headless)},
		}
		for _, b := range builds {
			f = append(f, view.File{Path: "content/streams/x/builds/" + b + ".md", Data: []byte(`{"title":"` + b + `","url":"/streams/x/` + b + `/"}` + "\n")})
		}
		return f
	}
	read := func(p string) string {
		data, _ := os.ReadFile(filepath.Join(pub, p))
		return strings.TrimSpace(string(data))
	}
	ctx := context.Background()
	for i, step := range []struct {
		cur    string
		builds []string
	}{
		{"A", []string{"a", "b"}}, {"B", []string{"a", "b"}}, {"C", []string{"a"}}, {"D", []string{"a", "c"}},
		// Pages added at once, beside a change: a batch each, then more
		// than maxBatches, which a fresh Hugo renders.
		{"E", []string{"a", "b", "c", "d"}},
		{"F", []string{"b", "c", "e", "f", "g", "h", "i", "j"}},
	} {
		if err := s.Build(ctx, files(step.cur, step.builds...), nil); err != nil {
			t.Fatal(err)
		}
		if got := read("streams/x/index.html"); got != "stream="+step.cur {
			t.Errorf("build %d: the stream page says %q, want stream=%s", i, got, step.cur)
		}
		if got := read("index.html"); got != "home="+step.cur {
			t.Errorf("build %d: the home page says %q, want home=%s", i, got, step.cur)
		}
		for _, b := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
			_, err := os.Stat(filepath.Join(pub, "streams/x", b, "index.html"))
			if want := strings.Contains(strings.Join(step.builds, " "), b); (err == nil) != want {
				t.Errorf("build %d: page %s published %v, want %v", i, b, err == nil, want)
			}
		}
	}
}

// Streams that appear add state pages beside the home page's, which
// changes in the same rebuild: the home page and each stream's page show
// them.
func TestRebuildNewStreams(t *testing.T) {
	s, pub := watchedSite(t)
	headless := `,"build":{"render":"never","list":"never"}}` + "\n"
	files := func(streams ...string) []view.File {
		f := []view.File{{Path: "content/_index.md", Data: []byte(`{"title":"home"}` + "\n")}}
		for _, st := range streams {
			f = append(f,
				view.File{Path: "content/streams/" + st + "/_index.md", Data: []byte(`{"title":"` + st + `","layout":"stream","params":{"state":"/state/stream-` + st + `"}}` + "\n")},
				view.File{Path: "content/state/stream-" + st + ".md", Data: []byte(`{"title":"s","params":{"stream":{"current":"` + st + `1"}}` + headless)})
		}
		return append(f,
			view.File{Path: "content/state/home.md", Data: []byte(`{"title":"h","params":{"home":{"current":"` + strings.Join(streams, "_") + `"}}` + headless)},
			view.File{Path: "content/state/_index.md", Data: []byte(`{"title":"state"` + headless)})
	}
	read := func(p string) string {
		data, _ := os.ReadFile(filepath.Join(pub, p))
		return strings.TrimSpace(string(data))
	}
	ctx := context.Background()
	for i, streams := range [][]string{{"x"}, {"x", "y"}, {"x"}, {"w", "x", "y"}, {"a", "b", "c", "w", "x", "y", "z"}} {
		if err := s.Build(ctx, files(streams...), nil); err != nil {
			t.Fatal(err)
		}
		if got, want := read("index.html"), "home="+strings.Join(streams, "_"); got != want {
			t.Errorf("build %d: the home page says %q, want %s", i, got, want)
		}
		for _, st := range streams {
			if got := read("streams/" + st + "/index.html"); got != "stream="+st+"1" {
				t.Errorf("build %d: stream %s's page says %q", i, st, got)
			}
		}
	}
}

// watchedSite is a Site in watch mode over a project of a few templates
// that read the state pages as the real ones do, and its publish
// directory.
func watchedSite(t *testing.T) (*Site, string) {
	t.Helper()
	proj := t.TempDir()
	for p, data := range map[string]string{
		"site/hugo.toml":         "disableKinds = ['taxonomy', 'term', 'RSS', 'sitemap', 'robotsTXT', '404']\n",
		"templates/stream.html":  `{{ $s := (site.GetPage .Params.state).Params.stream }}stream={{ $s.current }}`,
		"templates/home.html":    `{{ $h := (site.GetPage "/state/home").Params.home }}home={{ $h.current }}`,
		"templates/single.html":  `page {{ .Title }}`,
		"templates/section.html": `section {{ .Title }}`,
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(proj, p)), 0o755)
		if err := os.WriteFile(filepath.Join(proj, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pub := t.TempDir()
	s, err := New(Options{ProjectDir: proj, PublishDir: pub, CacheDir: t.TempDir(), Watch: true})
	if err != nil {
		t.Fatal(err)
	}
	return s, pub
}
