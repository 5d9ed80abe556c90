package deploy

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/testkit/fixture"
	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
)

// TestDownstreamMirror runs the downstream mirror's shipped unit as
// systemd would, with its environment file as shipped but for the
// upstream, the endpoint and the key: a primary publishes GPG-signed
// commits (and a static delta) to its web root; each day the unit brings
// the downstream bucket up to date, and a client that verifies commits and
// summary pulls from it; a day with nothing new changes nothing; a run
// that finds another holding the lease is busy, not failed.
func TestDownstreamMirror(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze not found: install the Debian package systemd (make test does, as root)")
	}
	bin := binaries(t)
	root := t.TempDir()
	rewrite := strings.NewReplacer("/usr/local/bin/", bin+"/", "/etc/atomic-mirror", filepath.Join(root, "etc")).Replace
	units := t.TempDir()
	for _, name := range []string{"atomic-downstream.service", "atomic-downstream.timer"} {
		data, err := os.ReadFile(filepath.Join("downstream", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(units, name), []byte(rewrite(string(data))), 0o644)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(analyze, "verify", filepath.Join(units, "atomic-downstream.service"), filepath.Join(units, "atomic-downstream.timer"))
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, stderr.String())
	}

	// The primary: a compose repository, published by mirror sync to a
	// web root that a web server serves.
	g := fixture.GPGKey(t)
	repo, www := filepath.Join(root, "repo"), filepath.Join(root, "www")
	fixture.Command(t, "ostree", "--repo="+repo, "init", "--mode=archive")
	web := httptest.NewServer(http.FileServer(http.Dir(www)))
	t.Cleanup(web.Close)
	const ref = "fedora/28/x86_64/atomic-host"
	compose := func(day int) string {
		tree := t.TempDir()
		for i := range 30 {
			p := filepath.Join(tree, "usr", "lib", fmt.Sprintf("day%d-%d", day, i))
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, bytes.Repeat([]byte{byte(day), byte(i)}, 500+i), 0o644)
		}
		commit := fixture.Command(t, "ostree", append([]string{"--repo=" + repo, "commit", "-b", ref, "--tree=dir=" + tree, "-s", fmt.Sprint("day ", day)}, g.Sign()...)...)
		return commit
	}
	publish := func() {
		fixture.Command(t, "ostree", append([]string{"--repo=" + repo, "summary", "-u"}, g.Sign()...)...)
		fixture.Command(t, filepath.Join(bin, "mirror"), "sync", repo, www, "--progress", "none")
	}

	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "atomic-mirror", "repo")
	shipped, err := readEnvFile(filepath.Join("downstream", "downstream.env"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range shipped {
		env[k] = rewrite(v)
	}
	env["UPSTREAM"], env["S3_ENDPOINT"], env["GPG_KEYRING"] = web.URL+"/", srv.Endpoint, g.Public
	if env["DEST"] != "s3://atomic-mirror/repo" {
		t.Fatalf("downstream.env ships DEST=%s; the test's bucket is s3://atomic-mirror/repo", env["DEST"])
	}
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	var lines []string
	for k, v := range env {
		lines = append(lines, k+"="+v)
	}
	os.WriteFile(filepath.Join(root, "etc", "downstream.env"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	h := newHost(t, loadUnits(t, units, func(s string) string { return s }), append(os.Environ(), "AWS_CA_BUNDLE=",
		"AWS_ACCESS_KEY_ID="+s3server.AccessKey, "AWS_SECRET_ACCESS_KEY="+s3server.SecretKey))

	client := filepath.Join(root, "client")
	fixture.Command(t, "ostree", "--repo="+client, "init", "--mode=bare-user")
	fixture.Command(t, "ostree", "--repo="+client, "remote", "add", "--set=gpg-verify=true", "--set=gpg-verify-summary=true",
		"--gpg-import="+g.Public, "mirror", srv.Endpoint+"/atomic-mirror/repo")
	pull := func(args ...string) string {
		fixture.Command(t, "ostree", append([]string{"--repo=" + client, "pull"}, append(args, "mirror", ref)...)...)
		fixture.Command(t, "ostree", "--repo="+client, "fsck")
		return fixture.Command(t, "ostree", "--repo="+client, "rev-parse", "mirror:"+ref)
	}
	listing := func() string {
		var b strings.Builder
		bucket.List(context.Background(), nil, func(o store.Object) error {
			if !strings.HasPrefix(o.Key, store.StateDir) {
				fmt.Fprintf(&b, "%s %d\n", o.Key, o.Size)
			}
			return nil
		})
		return b.String()
	}
	run := func(day int) {
		t.Helper()
		h.now = time.Date(2018, 6, day, 4, 0, 0, 0, time.UTC)
		if !h.start("atomic-downstream.service") {
			t.Fatalf("day %d: the unit failed: %v", day, h.exits)
		}
	}

	// Day 1: the first commit.
	first := compose(1)
	publish()
	run(1)
	if got := pull(); got != first {
		t.Fatalf("day 1: the client has %s, want %s", got, first)
	}
	// Day 2: a new commit and a static delta to it; the client takes the
	// delta or nothing.
	second := compose(2)
	fixture.Command(t, "ostree", "--repo="+repo, "static-delta", "generate", "--from="+first, "--to="+second)
	publish()
	run(2)
	if got := pull("--require-static-deltas"); got != second {
		t.Fatalf("day 2: the client has %s, want %s", got, second)
	}
	out, err := exec.Command(filepath.Join(bin, "mirror"), "verify", "s3://atomic-mirror/repo", "--endpoint", srv.Endpoint, "--deep",
		"--against", web.URL+"/").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "up to date with "+web.URL) {
		t.Fatalf("day 2: verify --deep --against the upstream: %v\n%s", err, out)
	}
	// Day 3: nothing new upstream: nothing changes.
	before := listing()
	run(3)
	if after := listing(); after != before {
		t.Errorf("day 3: a run with nothing new changed the mirror:\n%s", diffLines(before, after))
	}
	// Day 4: another run holds the lease: exit 3, which the unit counts as
	// success; the next run catches up.
	other := store.Holder{Host: "mirror-b.example.org", PID: 4242, Tool: "mirror", Started: time.Now(), Expires: time.Now().Add(time.Hour)}
	if _, err := bucket.CreateLease(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	third := compose(4)
	publish()
	run(4)
	if codes := h.exits["atomic-downstream.service"]; codes[len(codes)-1] != 3 {
		t.Errorf("day 4: exit %v, want 3 (busy)", codes)
	}
	if err := bucket.DeleteLease(context.Background()); err != nil {
		t.Fatal(err)
	}
	run(5)
	if got := pull(); got != third {
		t.Fatalf("day 5: the client has %s, want %s", got, third)
	}
}
