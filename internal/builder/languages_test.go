package builder_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/builder"
	"github.com/projectatomic/atomic-site/internal/preview"
	"github.com/projectatomic/atomic-site/internal/testkit/fixture"
	"golang.org/x/net/html"
)

const siteURL = "https://atomic.fedoraproject.org/"

// pseudoSite is the example site with both pseudo-locales.
func pseudoSite(t *testing.T) string {
	t.Helper()
	opts := exampleOptions(filepath.Join(repo, "testdata", "manifests"))
	opts.Langs = []string{"en-XA", "ar-XB"}
	return build(t, opts)
}

// htmlPages lists the site's pages, by path below it, parsed.
func htmlPages(t *testing.T, dir string) map[string]*html.Node {
	t.Helper()
	out := map[string]*html.Node{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".html" {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		doc, err := html.Parse(f)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = doc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func find(n *html.Node, tag string) *html.Node {
	if n.Type == html.ElementNode && n.Data == tag {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := find(c, tag); f != nil {
			return f
		}
	}
	return nil
}

// dataWords are the words the pages take from the manifests, never
// translated: names of streams, releases, architectures, platforms,
// formats, files, refs, digests.
func dataWords(t *testing.T) map[string]bool {
	t.Helper()
	words := map[string]bool{"CHECKSUM": true, "MiB": true, "GiB": true, "KiB": true}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				words[k] = true
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case string:
			if !strings.ContainsAny(v, " \n") {
				words[v], words[path.Base(v)] = true, true
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(repo, "testdata", "manifests", "*", "*.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		walk(v)
		rel, _ := filepath.Rel(filepath.Join(repo, "testdata", "manifests"), f)
		words[filepath.ToSlash(rel)] = true
	}
	return words
}

var (
	urlRE   = regexp.MustCompile(`https?://\S+`)
	tokenRE = regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9._/-]*`)
	wordRE  = regexp.MustCompile(`[A-Za-z]{2}`)
)

// english returns the first English word of s that is not data.
func english(s string, data map[string]bool) string {
	for _, tok := range tokenRE.FindAllString(urlRE.ReplaceAllString(s, ""), -1) {
		tok = strings.TrimRight(tok, ".")
		if !data[tok] && wordRE.MatchString(tok) {
			return tok
		}
	}
	return ""
}

// Every visible string of en-XA's pages comes from the catalog: each shows
// en-XA's accents, but data (releases, file names, digests, commands and
// URLs: code, pre and links' data) and text marked as another language
// (the language selector, release notes).
func TestPseudoLocales(t *testing.T) {
	out := pseudoSite(t)
	data := dataWords(t)
	pages := htmlPages(t, out)
	var checked int
	for rel, doc := range pages {
		lang, dir := "", ""
		if h := find(doc, "html"); h != nil {
			lang, _ = attr(h, "lang")
			dir, _ = attr(h, "dir")
		}
		switch {
		case strings.HasPrefix(rel, "en-xa/"):
			if lang != "en-XA" {
				t.Errorf("%s: lang %q", rel, lang)
			}
			checked++
			var walk func(n *html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.ElementNode {
					switch n.Data {
					case "script", "style", "code", "pre", "time":
						return
					}
					if l, ok := attr(n, "lang"); ok && l != lang {
						return
					}
					for _, a := range n.Attr {
						if a.Key == "aria-label" || a.Key == "title" || (n.Data == "meta" && a.Key == "content" && slices.Contains(n.Attr, html.Attribute{Key: "name", Val: "description"})) {
							if w := english(a.Val, data); w != "" {
								t.Errorf("%s: <%s %s=%q>: %q is not from the catalog", rel, n.Data, a.Key, a.Val, w)
							}
						}
					}
				}
				if n.Type == html.TextNode {
					if w := english(n.Data, data); w != "" {
						t.Errorf("%s: text %q: %q is not from the catalog", rel, strings.TrimSpace(n.Data), w)
					}
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
			}
			walk(doc)
		case strings.HasPrefix(rel, "ar-xb/"):
			if lang != "ar-XB" || dir != "rtl" {
				t.Errorf("%s: <html lang=%q dir=%q>, want ar-XB and rtl", rel, lang, dir)
			}
		case strings.HasPrefix(rel, "latest/"), rel == "en/index.html":
		default:
			if lang != "en" || dir != "ltr" {
				t.Errorf("%s: <html lang=%q dir=%q>, want en and ltr", rel, lang, dir)
			}
		}
	}
	if checked < 10 {
		t.Errorf("checked %d en-XA pages", checked)
	}
	// A page with text not in the catalog is caught.
	if w := english("[Ðöŵñļöåð Fedora-AtomicHost-28-1.1.x86_64.qcow2] Download", data); w != "Download" {
		t.Errorf("english() missed English: %q", w)
	}
	// Feeds, JSON, /latest/ and CHECKSUM files are one copy, not one per
	// language.
	for _, l := range []string{"en-xa", "ar-xb"} {
		filepath.WalkDir(filepath.Join(out, l), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && filepath.Ext(p) != ".html" {
				t.Errorf("%s: a language's copy of an output", p)
			}
			return err
		})
	}
}

// Each page lists itself in every language it is in (hreflang), the same
// list on each of them, and the sitemap lists every language's pages with
// the same alternates.
func TestHreflangAndSitemap(t *testing.T) {
	out := pseudoSite(t)
	pages := htmlPages(t, out)
	alternates := map[string]map[string]string{} // page → hreflang → href
	for rel, doc := range pages {
		if strings.HasPrefix(rel, "latest/") || rel == "en/index.html" {
			continue // sitegen's /latest/ fallbacks and Hugo's alias: not pages of a language
		}
		alts := map[string]string{}
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode && n.Data == "link" {
				if r, _ := attr(n, "rel"); r == "alternate" {
					if hl, ok := attr(n, "hreflang"); ok {
						alts[hl], _ = attr(n, "href")
					}
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
		alternates[rel] = alts
	}
	self := func(rel string) string {
		return siteURL + strings.TrimSuffix(strings.TrimSuffix(rel, "index.html"), "404.html")
	}
	file := func(href string) string {
		p := strings.TrimPrefix(href, siteURL)
		if p == "" || strings.HasSuffix(p, "/") {
			p += "index.html"
		}
		return p
	}
	for rel, alts := range alternates {
		if strings.HasSuffix(rel, "404.html") {
			continue
		}
		if len(alts) == 0 {
			t.Errorf("%s: no hreflang alternates", rel)
			continue
		}
		if !slices.Contains(slices.Collect(maps.Values(alts)), self(rel)) {
			t.Errorf("%s: alternates %v do not hold the page itself", rel, alts)
		}
		if alts["x-default"] != alts["en"] || alts["en"] == "" {
			t.Errorf("%s: x-default %q, English %q", rel, alts["x-default"], alts["en"])
		}
		for hl, href := range alts {
			other, ok := alternates[file(href)]
			if !ok {
				t.Errorf("%s: %s alternate %s is not a page", rel, hl, href)
				continue
			}
			if !maps.Equal(other, alts) {
				t.Errorf("%s lists %v, and its %s alternate %s lists %v", rel, alts, hl, file(href), other)
			}
		}
	}
	if n := len(alternates["streams/stable/28.20180508.0/index.html"]); n != 4 {
		t.Errorf("a build page has %d alternates, want 4 (3 languages and x-default)", n)
	}
	var sm struct {
		URLs []struct {
			Loc   string `xml:"loc"`
			Links []struct {
				Hreflang string `xml:"hreflang,attr"`
				Href     string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal([]byte(read(t, filepath.Join(out, "sitemap.xml"))), &sm); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, u := range sm.URLs {
		listed[file(u.Loc)] = true
		got := map[string]string{}
		for _, l := range u.Links {
			got[l.Hreflang] = l.Href
		}
		if want := alternates[file(u.Loc)]; !maps.Equal(got, want) {
			t.Errorf("sitemap: %s has alternates %v; its page lists %v", u.Loc, got, want)
		}
	}
	for rel := range alternates {
		if !listed[rel] && !strings.HasSuffix(rel, "404.html") {
			t.Errorf("sitemap does not list %s", rel)
		}
	}
}

// germanProject is the project with a German catalog (a test one) and a
// German about page.
func germanProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"site", "templates", "content"} {
		if err := os.CopyFS(filepath.Join(dir, d), os.DirFS(filepath.Join(repo, d))); err != nil {
			t.Fatal(err)
		}
	}
	for src, dst := range map[string]string{"po/de.po": "po/de.po", "about.de.md": "content/about.de.md"} {
		data, err := os.ReadFile(filepath.Join("testdata", src))
		if err != nil {
			t.Fatal(err)
		}
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, dst)), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, dst), data, 0o644))
	}
	return dir
}

// A language added by its catalog: its pages say what it translates and
// English for the rest; its hand-written pages where translated
// (about.de.md), the English ones where not.
func TestLanguageFromCatalog(t *testing.T) {
	opts := exampleOptions(filepath.Join(repo, "testdata", "manifests"))
	opts.ProjectDir = germanProject(t)
	out := build(t, opts)
	home := read(t, filepath.Join(out, "de", "index.html"))
	for _, want := range []string{
		`<html lang="de" dir="ltr">`,
		`Zum Inhalt springen`,
		`<a href="/de/about/">Über diese Website</a>`,                            // translated page, translated link
		`<a href="/docs/">Dokumentation</a>`,                                     // English page, translated link
		`<a href="/verify/">Verify a download</a>`,                               // neither: English
		`Alle x86_64-Abbilder von 28.20180508.0</a> (8 Dateien, 3 cloud images)`, // "cloud images": not translated, English
		`<a href="/en/" hreflang="en" lang="en">English</a>`,
		`<a href="/de/" hreflang="de" lang="de" aria-current="page">Deutsch</a>`,
		`<link rel="alternate" hreflang="de" href="https://atomic.fedoraproject.org/de/">`,
	} {
		if !strings.Contains(home, want) {
			t.Errorf("/de/ lacks %s", want)
		}
	}
	// Dates, sizes and numbers as German writes them.
	stream := read(t, filepath.Join(out, "de", "streams", "stable", "index.html"))
	for _, want := range []string{`<time datetime="2018-05-08">8. Mai 2018</time>`, `title="607637668 B">579,5 MiB</data>`} {
		if !strings.Contains(stream, want) {
			t.Errorf("/de/streams/stable/ lacks %s", want)
		}
	}
	if strings.Contains(read(t, filepath.Join(out, "de", "streams", "stable", "28.20180508.0", "index.html")), "Versionshinweise") {
		t.Error("a fuzzy translation was used")
	}
	if about := read(t, filepath.Join(out, "de", "about", "index.html")); !strings.Contains(about, "Diese Website bietet") {
		t.Errorf("/de/about/ is not about.de.md")
	}
	if _, err := os.Stat(filepath.Join(out, "de", "docs")); err == nil {
		t.Error("/de/docs/ exists: docs.md has no German version")
	}
	if en := read(t, filepath.Join(out, "index.html")); !strings.Contains(en, `<html lang="en" dir="ltr">`) || !strings.Contains(en, "Skip to content") {
		t.Error("the English home page is not English")
	}
}

// / sends a visitor to the home page in their browser's language, where
// the site has it, in Netlify's own engine and in sitegen serve; /en/ is
// English for whoever chose it, and no other page is redirected.
func TestLanguageRedirects(t *testing.T) {
	opts := exampleOptions(filepath.Join(repo, "testdata", "manifests"))
	opts.ProjectDir = germanProject(t)
	opts.Langs = []string{"en-XA"}
	out := build(t, opts)
	cases := []string{
		`/|de-DE,de;q=0.9,en;q=0.8|302|/de/`,
		`/|de|302|/de/`,
		`/|fr-FR,fr|200|<html lang="en"`,
		`/||200|<html lang="en"`,
		`/|en-XA|200|<html lang="en"`, // a pseudo-locale is never a redirect's target
		`/en/|de|200|<html lang="en"`,
		`/de/|en|200|<html lang="de"`,
		`/streams/stable/|de|200|<html lang="en"`,
		`/de/streams/stable/|en|200|<html lang="de"`,
	}
	got, err := fixture.Node(t, filepath.Join("testdata", "languages.mjs"), append([]string{out}, cases...)...)
	if err != nil || !strings.Contains(string(got), ", failed 0") {
		t.Fatalf("node languages.mjs (Netlify): %v\n%s", err, got)
	}
	// sitegen serve answers the same.
	srv := httptest.NewServer(preview.Handler(out))
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range cases {
		f := strings.Split(c, "|")
		req, _ := http.NewRequest("GET", srv.URL+f[0], nil)
		if f[1] != "" {
			req.Header.Set("Accept-Language", f[1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		got := res.Header.Get("Location")
		if res.StatusCode == 200 {
			got = string(body)
		}
		if f[0] == "/" && res.Header.Get("Vary") != "Accept-Language" {
			t.Errorf("serve / (Accept-Language: %s): Vary %q, want Accept-Language", f[1], res.Header.Get("Vary"))
		}
		if strconv.Itoa(res.StatusCode) != f[2] || (res.StatusCode == 200 && !strings.Contains(got, f[3])) || (res.StatusCode != 200 && got != f[3]) {
			t.Errorf("serve %s (Accept-Language: %s): %d %.60q, want %s %s", f[0], f[1], res.StatusCode, got, f[2], f[3])
		}
	}
	// A site in English alone (and its pseudo-locales) redirects nobody.
	out = pseudoSite(t)
	if got, err := fixture.Node(t, filepath.Join("testdata", "languages.mjs"), out, `/|de|200|<html lang="en"`, `/en/|de|200|url=https://atomic.fedoraproject.org/`); err != nil || !strings.Contains(string(got), ", failed 0") {
		t.Fatalf("node languages.mjs (English alone): %v\n%s", err, got)
	}
}

// A catalog with a mistake stops the build with one line naming it, and
// the site published stays as it was; a catalog that translates nothing is
// left out, and so is its language.
func TestCatalogMistakes(t *testing.T) {
	opts := exampleOptions(filepath.Join(repo, "testdata", "manifests"))
	opts.ProjectDir = germanProject(t)
	out := build(t, opts)
	before := read(t, filepath.Join(out, "de", "index.html"))
	po := filepath.Join(opts.ProjectDir, "po", "de.po")
	good := read(t, po)
	must(t, os.WriteFile(po, []byte(strings.Replace(good, `msgstr "Alle %1$s-Abbilder von %2$s"`, `msgstr "Alle %1$s-Abbilder"`, 1)), 0o644))
	_, err := builder.Build(context.Background(), opts, out)
	if err == nil || !strings.HasPrefix(err.Error(), po+":31: msgid \"Every %s image of %s\": placeholders %s, and the English has %s %s") || strings.Contains(err.Error(), "\n") {
		t.Errorf("a placeholder missing: %v", err)
	}
	if read(t, filepath.Join(out, "de", "index.html")) != before {
		t.Error("the published site changed")
	}
	// Header alone: nothing translated.
	must(t, os.WriteFile(po, []byte(good[:strings.Index(good, "\nmsgid \"Skip")]), 0o644))
	if _, err := builder.Build(context.Background(), opts, out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "de")); err == nil {
		t.Error("/de/ is published for a catalog that translates nothing")
	}
	if home := read(t, filepath.Join(out, "index.html")); strings.Contains(home, `hreflang="de"`) || strings.Contains(home, `class="languages"`) {
		t.Error("the home page still offers German")
	}
	// en.po and a pseudo-locale's are not languages to translate into.
	must(t, os.WriteFile(filepath.Join(opts.ProjectDir, "po", "en.po"), []byte(good), 0o644))
	if _, err := builder.Build(context.Background(), opts, out); err == nil || !strings.Contains(err.Error(), "en.po: en is the site's own language") {
		t.Errorf("po/en.po: %v", err)
	}
}
