package builder_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/testkit/netlify"
)

// chromium runs headless Chromium with the flags this machine needs (no
// background networking: only loopback is reachable) and returns stdout.
func chromium(t *testing.T, args ...string) string {
	t.Helper()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Fatal("headless Chromium not found: install the Debian package chromium (make test does, as root)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v", args, err)
	}
	return string(out)
}

// TestBrowser loads the built site in headless Chromium from a loopback
// server: the home page shows the current build's sha256 and, at a late
// --now, the stale banner. Screenshots are kept in the test's artifact
// directory (go test -artifacts).
func TestBrowser(t *testing.T) {
	for _, tt := range []struct {
		name  string
		now   time.Time
		want  []string
		stale bool
	}{
		{"fresh", time.Date(2018, 5, 10, 0, 0, 0, 0, time.UTC), []string{
			// qcow2 of 28.20180508.0, the current stable build.
			"748aa4ac852971d5d8d921216d203554159da9efd19749e4613b09d5ef687627",
		}, false},
		{"late", time.Date(2018, 9, 1, 0, 0, 0, 0, time.UTC), []string{
			"748aa4ac852971d5d8d921216d203554159da9efd19749e4613b09d5ef687627",
			`No build has passed its tests since <time datetime="2018-05-08">May 8, 2018</time>`,
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := exampleOptions(historyAsOf(t, tt.now))
			opts.History.Now = tt.now
			out := build(t, opts)
			// Served with the headers production has (netlify.toml), CSP
			// included: the page must work under them.
			nc, err := netlify.Load(filepath.Join(repo, "netlify.toml"))
			if err != nil {
				t.Fatal(err)
			}
			files := http.FileServer(http.Dir(out))
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range nc.HeadersFor(r.URL.Path) {
					w.Header().Set(k, strings.Join(v, ", "))
				}
				files.ServeHTTP(w, r)
			}))
			defer srv.Close()

			dom := chromium(t, "--dump-dom", srv.URL+"/")
			for _, w := range tt.want {
				if !strings.Contains(dom, w) {
					t.Errorf("the page as Chromium sees it lacks %q", w)
				}
			}
			if got := strings.Contains(dom, `class="notice notice-stale"`); got != tt.stale {
				t.Errorf("stale banner shown = %v, want %v", got, tt.stale)
			}
			// The copy buttons come from the deferred script: proof it
			// loaded under its integrity hash and the CSP.
			if !strings.Contains(dom, `class="copy"`) {
				t.Error("the copy-to-clipboard script did not run")
			}
			shot := filepath.Join(t.ArtifactDir(), "home.png")
			chromium(t, "--window-size=1280,1600", "--screenshot="+shot, srv.URL+"/")
			if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
				t.Fatalf("screenshot %s: %v", shot, err)
			}
			t.Logf("screenshot: %s", shot)
		})
	}
}
