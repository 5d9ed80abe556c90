package deploy

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
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
	"github.com/projectatomic/atomic-site/internal/testkit/synth"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// downstreamHost installs the downstream mirror's shipped units (checked
// with systemd-analyze) and its environment file as shipped, but for set
// and the endpoint, under root, and returns a host that runs them. The
// shipped value of the variable dest must be want: the bucket and prefix
// the test's server holds.
func downstreamHost(t *testing.T, bin, root string, srv *s3server.Server, set map[string]string, dest, want string) *host {
	t.Helper()
	rewrite := strings.NewReplacer("/usr/local/bin/", bin+"/", "/etc/atomic-mirror", filepath.Join(root, "etc")).Replace
	units, _ := verifiedUnits(t, "downstream", rewrite)

	shipped, err := readEnvFile(filepath.Join("downstream", "downstream.env"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range shipped {
		env[k] = rewrite(v)
	}
	for k, v := range set {
		if _, ok := env[k]; !ok {
			t.Fatalf("downstream.env ships no %s", k)
		}
		env[k] = v
	}
	env["S3_ENDPOINT"] = srv.Endpoint
	if env[dest] != want {
		t.Fatalf("downstream.env ships %s=%s; the test's bucket is %s", dest, env[dest], want)
	}
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	var lines []string
	for k, v := range env {
		lines = append(lines, k+"="+v)
	}
	os.WriteFile(filepath.Join(root, "etc", "downstream.env"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	return newHost(t, loadUnits(t, units, func(s string) string { return s }), append(os.Environ(), "AWS_CA_BUNDLE=",
		"AWS_ACCESS_KEY_ID="+s3server.AccessKey, "AWS_SECRET_ACCESS_KEY="+s3server.SecretKey))
}

// TestDownstreamMirror runs the downstream mirror's shipped unit as
// systemd would, with its environment file as shipped but for the
// upstream, the endpoint and the key: a primary publishes GPG-signed
// commits (and a static delta) to its web root; each day the unit brings
// the downstream bucket up to date, and a client that verifies commits and
// summary pulls from it; a day with nothing new changes nothing; a run
// that finds another holding the lease is busy, not failed.
func TestDownstreamMirror(t *testing.T) {
	bin := binaries(t)
	root := t.TempDir()
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
	h := downstreamHost(t, bin, root, srv, map[string]string{"UPSTREAM": web.URL + "/", "GPG_KEYRING": g.Public}, "DEST", "s3://atomic-mirror/repo")

	client := filepath.Join(root, "client")
	fixture.Command(t, "ostree", "--repo="+client, "init", "--mode=bare-user")
	fixture.Command(t, "ostree", "--repo="+client, "remote", "add", "--set=gpg-verify=true", "--set=gpg-verify-summary=true",
		"--gpg-import="+g.Public, "mirror", srv.Endpoint+"/atomic-mirror/repo")
	pull := func(args ...string) string {
		fixture.Command(t, "ostree", append([]string{"--repo=" + client, "pull"}, append(args, "mirror", ref)...)...)
		fixture.Command(t, "ostree", "--repo="+client, "fsck")
		return fixture.Command(t, "ostree", "--repo="+client, "rev-parse", "mirror:"+ref)
	}
	listing := func() string { return bucketListing(bucket) }
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

// bucketListing lists a bucket's keys and sizes, one per line, the
// mirror's own state aside.
func bucketListing(st interface {
	List(context.Context, func(string) bool, func(store.Object) error) error
}) string {
	var b strings.Builder
	st.List(context.Background(), nil, func(o store.Object) error {
		if !strings.HasPrefix(o.Key, store.StateDir) {
			fmt.Fprintf(&b, "%s %d\n", o.Key, o.Size)
		}
		return nil
	})
	return b.String()
}

// treeListing lists a release tree's files and sizes as bucketListing
// does, the mirror's own state aside.
func treeListing(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel = filepath.ToSlash(rel); strings.HasPrefix(rel, store.StateDir) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %d\n", rel, fi.Size())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestDownstreamReleases runs the shipped unit that mirrors the release
// files, as systemd would: the primary publishes its release tree to a web
// root and builds its site (whose index.json lists the signed manifests);
// each day the unit brings the downstream bucket up to date, in the
// primary's layout, and verify --deep of it with the keys finds nothing
// wrong. A day with nothing new changes nothing; a release published but
// not yet on the site waits for the site; an image tampered with upstream
// fails the unit and keeps its release off the mirror, while the earlier
// releases stay.
func TestDownstreamReleases(t *testing.T) {
	bin := binaries(t)
	root := t.TempDir()
	sitegen, mirror := filepath.Join(bin, "sitegen"), filepath.Join(bin, "mirror")
	keys, _ := filepath.Abs("../testdata/keys")
	signingKey, _ := filepath.Abs("../testdata/test-signing.key")
	signer, err := trust.LoadSigner(signingKey)
	if err != nil {
		t.Fatal(err)
	}
	compose, pub, site := filepath.Join(root, "compose"), filepath.Join(root, "www", "pub"), filepath.Join(root, "site")
	cfg := filepath.Join(root, "sitegen.toml")
	os.WriteFile(cfg, []byte("title = \"Fedora Atomic Host\"\nbase-url = \"https://atomic.example.org/\"\n\n[[streams]]\nname = \"stable\"\ntitle = \"Fedora Atomic Host 28\"\n"), 0o644)
	web := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(root, "www"))))
	t.Cleanup(web.Close)
	siteWeb := httptest.NewServer(http.FileServer(http.Dir(site)))
	t.Cleanup(siteWeb.Close)
	release := func(name string, day int) {
		if err := synth.WriteRelease(compose, signer, "stable", name, time.Date(2018, 6, day, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		run(t, mirror, "sync", compose, pub, "--keys", keys, "--progress", "none")
	}
	buildSite := func() {
		run(t, sitegen, "build", "--manifests", pub, "--keys", keys, "--config", cfg, "--out", site, "--sign-key", signingKey)
	}

	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "atomic-mirror", "pub")
	h := downstreamHost(t, bin, root, srv, map[string]string{"RELEASES_UPSTREAM": web.URL + "/pub/", "SITE": siteWeb.URL + "/", "RELEASE_KEYS": keys},
		"RELEASES_DEST", "s3://atomic-mirror/pub")
	day := func(d int) bool {
		t.Helper()
		h.now = time.Date(2018, 6, d, 5, 0, 0, 0, time.UTC)
		return h.start("atomic-downstream-releases.service")
	}
	verify := func(d int) {
		t.Helper()
		cmd := exec.Command(mirror, "verify", "s3://atomic-mirror/pub", "--endpoint", srv.Endpoint, "--keys", keys, "--deep")
		cmd.Env = append(os.Environ(), "AWS_CA_BUNDLE=", "AWS_ACCESS_KEY_ID="+s3server.AccessKey, "AWS_SECRET_ACCESS_KEY="+s3server.SecretKey)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("day %d: verify --deep of the mirror: %v\n%s", d, err, out)
		}
	}
	// caughtUp runs day d, which must leave the mirror holding the
	// upstream's tree, whole.
	caughtUp := func(d int) {
		t.Helper()
		if !day(d) {
			t.Fatalf("day %d: the unit failed: %v", d, h.exits)
		}
		if got, want := bucketListing(bucket), treeListing(t, pub); got != want {
			t.Fatalf("day %d: the mirror is not the upstream's tree:\n%s", d, diffLines(want, got))
		}
		verify(d)
	}

	// Day 1: two releases.
	release("28.20180601.0", 1)
	release("28.20180601.1", 1)
	buildSite()
	caughtUp(1)
	// Day 2: nothing new.
	before := bucketListing(bucket)
	if !day(2) || bucketListing(bucket) != before {
		t.Errorf("day 2: a run with nothing new failed or changed the mirror: %v", h.exits)
	}
	// Day 3: a release is published upstream, but the site does not list
	// it yet: the mirror waits for the site. Day 4: the site lists it.
	release("28.20180603.0", 3)
	if !day(3) || bucketListing(bucket) != before {
		t.Errorf("day 3: a release the site does not list yet came across, or the run failed: %v", h.exits)
	}
	buildSite()
	caughtUp(4)
	// Day 5: a new release whose image is tampered with upstream, after
	// the site listed it: the unit fails, its manifest stays off the
	// mirror, the earlier releases stay.
	release("28.20180605.0", 5)
	buildSite()
	image := filepath.Join(pub, "stable", "x86_64", "Fedora-AtomicHost-28.20180605.0.x86_64.qcow2-disk")
	data, err := os.ReadFile(image)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-1] ^= 1
	os.WriteFile(image, data, 0o644)
	if day(5) {
		t.Fatal("day 5: a tampered image upstream, and the unit succeeded")
	}
	got := bucketListing(bucket)
	if strings.Contains(got, "stable/28.20180605.0.json ") {
		t.Error("day 5: the manifest of the release with a tampered image was published")
	}
	if !strings.Contains(got, "stable/28.20180603.0.json ") {
		t.Error("day 5: an earlier release is gone")
	}
	verify(5)
}
