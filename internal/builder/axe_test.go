package builder_test

import (
	"net/http"
	"net/http/httptest"
	"os"
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
	modules := fixture.NodeModules(t)
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: install the Debian package chromium (make test does, as root)")
	}
	out := build(t, exampleOptions(filepath.Join(repo, "testdata", "manifests")))
	srv := httptest.NewServer(http.FileServer(http.Dir(out)))
	defer srv.Close()
	dir := t.TempDir()
	script, _ := os.ReadFile(filepath.Join("testdata", "axe.mjs"))
	os.WriteFile(filepath.Join(dir, "axe.mjs"), script, 0o644)
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	shots := t.ArtifactDir()
	var urls []string
	for _, p := range []string{"/", "/streams/stable/", "/streams/stable/28.20180508.0/", "/verify/"} {
		urls = append(urls, srv.URL+p)
	}
	cmd := exec.Command("node", append([]string{filepath.Join(dir, "axe.mjs"), exe, shots}, urls...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	got, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(got), "problems 0") {
		t.Fatalf("node axe.mjs: %v\n%s", err, got)
	}
	t.Logf("%s", strings.TrimSpace(string(got)))
}
