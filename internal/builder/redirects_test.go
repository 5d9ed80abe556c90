package builder_test

import (
	"os"
	"os/exec"
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
	modules := fixture.NodeModules(t)
	out := build(t, exampleOptions(filepath.Join(repo, "testdata", "manifests")))
	dir := t.TempDir()
	script, _ := os.ReadFile(filepath.Join("testdata", "redirects.mjs"))
	os.WriteFile(filepath.Join(dir, "redirects.mjs"), script, 0o644)
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(dir, "redirects.mjs"), out)
	got, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(got), ", failed 0") {
		t.Fatalf("node redirects.mjs: %v\n%s", err, got)
	}
	t.Logf("%s", strings.TrimSpace(string(got)))
}
