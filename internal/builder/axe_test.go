package builder_test

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/testkit/fixture"
)

// The home, stream, build and verify pages at 1280 and 390 px, in Debian's
// Chromium driven by playwright-core: axe-core finds no serious or
// critical violation, and no page scrolls sideways on a phone.
// Screenshots of both widths are kept in the test's artifact directory.
func TestAccessibleOnPhonesAndDesktops(t *testing.T) {
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: install the Debian package chromium (make test does, as root)")
	}
	// With the pseudo-locales: ar-XB's pages are mirrored, right to left,
	// and en-XA's strings are 40% longer than English; neither may break
	// a page.
	opts := exampleOptions(filepath.Join(repo, "testdata", "manifests"))
	opts.Langs = []string{"en-XA", "ar-XB"}
	out := build(t, opts)
	srv := httptest.NewServer(http.FileServer(http.Dir(out)))
	defer srv.Close()
	shots := t.ArtifactDir()
	var urls []string
	for _, p := range []string{"/", "/streams/stable/", "/streams/stable/28.20180508.0/", "/verify/",
		"/ar-xb/", "/ar-xb/streams/stable/", "/ar-xb/streams/stable/28.20180508.0/", "/en-xa/streams/stable/28.20180508.0/"} {
		urls = append(urls, srv.URL+p)
	}
	got, err := fixture.Node(t, filepath.Join("testdata", "axe.mjs"), append([]string{exe, shots}, urls...)...)
	if err != nil || !strings.Contains(string(got), "problems 0") {
		t.Fatalf("node axe.mjs: %v\n%s", err, got)
	}
	t.Logf("%s", strings.TrimSpace(string(got)))
}
