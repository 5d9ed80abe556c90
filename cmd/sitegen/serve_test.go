package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/testkit/synth"
	"github.com/projectatomic/atomic-site/internal/trust"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeRebuilds runs sitegen serve, drops a new signed manifest in, and
// sees the home page move to it; then drops a bad one in and sees the last
// good site still served.
func TestServeRebuilds(t *testing.T) {
	manifests := t.TempDir()
	if err := os.CopyFS(manifests, os.DirFS("../../testdata/manifests")); err != nil {
		t.Fatal(err)
	}
	base, stdout := startServe(t, "--project", "../..", "--manifests", manifests, "--keys", "../../testdata/keys",
		"--addr", "127.0.0.1:0", "--now", "2018-06-10T00:00:00Z", "--log-level", "info")
	if home := get(t, base); !strings.Contains(home, "28.20180604.1") {
		t.Fatalf("home page lacks the current testing build")
	}
	if code := status(t, base+"no/such/page/"); code != http.StatusNotFound {
		t.Errorf("missing page: status %d, want 404", code)
	}

	s, err := trust.LoadSigner("../../testdata/test-signing.key")
	if err != nil {
		t.Fatal(err)
	}
	b := synth.Build("testing", "28.20180609.1", time.Date(2018, 6, 9, 6, 0, 0, 0, time.UTC))
	if err := synth.WriteBuild(manifests, s, b); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new build on the home page", func() bool {
		return strings.Contains(get(t, base), "image of 28.20180609.1")
	})
	// Hugo writes a rebuild's pages in parallel: the build's own page may
	// land a moment after the home page that links it.
	eventually(t, "the new build's page", func() bool {
		return strings.Contains(get(t, base+"streams/testing/28.20180609.1/"), "images of 28.20180609.1")
	})

	// A manifest that does not verify: the rebuild fails, the site stays.
	bad := filepath.Join(manifests, "testing", "28.20180612.1.json")
	os.WriteFile(bad+".sig", []byte("AAAA"), 0o644)
	os.WriteFile(bad, []byte(`{"stream":"testing"}`), 0o644)
	eventually(t, "the failed rebuild to be reported", func() bool {
		return regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d rebuild after changes to .*28.20180612.1.json.* failed; still serving the last good site: .*28.20180612.1.json: `).MatchString(stdout.String())
	})
	if !regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d rebuilt after changes to .*28.20180609.1.json.*: \d+ pages rendered in \d`).MatchString(stdout.String()) {
		t.Errorf("no line said what the rebuild did:\n%s", stdout.String())
	}
	if !strings.Contains(get(t, base), "image of 28.20180609.1") {
		t.Error("the last good site is no longer served after a failed rebuild")
	}
}

// serve rebuilds by itself when the clock makes a stream stale: a stream
// whose cadence is four seconds, and whose only build is a second old.
func TestServeRebuildsWhenTimePasses(t *testing.T) {
	manifests, project := t.TempDir(), t.TempDir()
	s, err := trust.LoadSigner("../../testdata/test-signing.key")
	if err != nil {
		t.Fatal(err)
	}
	built := time.Now().Add(-time.Second).Truncate(time.Second)
	if err := synth.WriteBuild(manifests, s, synth.Build("stable", "28.20180609.1", built)); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(project, "sitegen.toml")
	os.WriteFile(cfg, []byte("title = \"Fedora Atomic Host\"\n[[streams]]\nname = \"stable\"\ncadence = \"4s\"\n"), 0o644)
	base, stdout := startServe(t, "--project", "../..", "--config", cfg, "--manifests", manifests, "--keys", "../../testdata/keys",
		"--addr", "127.0.0.1:0")
	if strings.Contains(get(t, base+"streams/stable/"), `class="notice notice-stale"`) {
		t.Fatal("stale before its cadence passed")
	}
	eventually(t, "the stale warning, with no file changed", func() bool {
		return strings.Contains(get(t, base+"streams/stable/"), `class="notice notice-stale"`)
	})
	// The line comes once the rebuild is done, the page maybe before.
	eventually(t, "serve to say it rebuilt when the clock reached stable's cadence", func() bool {
		return strings.Contains(stdout.String(), "rebuilt after the clock reached ") && strings.Contains(stdout.String(), "(stable turns stale)")
	})
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// startServe runs sitegen serve with args until the test ends (then it
// must exit 0), and returns its address once it serves, and its log.
func startServe(t *testing.T, args ...string) (base string, stdout *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan int)
	go func() { done <- run(ctx, append([]string{"serve"}, args...), stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	})
	eventually(t, "serve to start", func() bool {
		m := regexp.MustCompile(`serving (http://\S+/)`).FindStringSubmatch(stdout.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	})
	return base, stdout
}
