package builder_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/testkit/fixture"
)

// Every /latest/ link of the built site, with and without a trailing
// slash, answers 302 with the image's URL in Netlify's own redirect
// engine, although an HTML page (for other servers) sits at the same
// path: so curl -LO and wget get the image, not the page.
func TestLatestRedirectsInNetlify(t *testing.T) {
	out := build(t, exampleOptions(filepath.Join(repo, "testdata", "manifests")))
	got, err := fixture.Node(t, filepath.Join("testdata", "redirects.mjs"), out)
	if err != nil || !strings.Contains(string(got), ", failed 0") {
		t.Fatalf("node redirects.mjs: %v\n%s", err, got)
	}
	t.Logf("%s", strings.TrimSpace(string(got)))
}
