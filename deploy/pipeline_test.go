package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/testkit/fixture"
	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
)

// run runs one of the built commands and fails the test on a non-zero
// exit.
func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "AWS_CA_BUNDLE=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// The release pipeline end to end, as the bot runs it (docs/operations.md),
// on real components: a compose with a Fedora CHECKSUM, import and sign,
// mirror sync of the release files to a bucket of a real MinIO and from
// it to a region's, the site built from the primary bucket's manifests
// (and the region's from the region's, and a downstream mirror's, fed
// over HTTP, from the downstream's), an ostree repository
// synced, then every download link and every Metalink URL of the site
// fetched and checked against the manifest's sha256, a real ostree pull,
// the announcement and sitegen check.
func TestPipeline(t *testing.T) {
	srv := s3server.Start(t)
	srv.Bucket(t, "atomic", "")
	srv.Bucket(t, "atomic-eu", "")
	bin := binaries(t)
	sitegen, mirror := filepath.Join(bin, "sitegen"), filepath.Join(bin, "mirror")
	work := t.TempDir()

	// 1. A compose: two images and their CHECKSUM, laid out as the
	// downloads directory is.
	const release = "28.20181025.0"
	compose := filepath.Join(work, "compose")
	dir := filepath.Join(compose, "stable", "Fedora-Atomic-"+release, "x86_64")
	os.MkdirAll(dir, 0o755)
	sums := map[string]string{}
	var checksum strings.Builder
	r := rand.New(rand.NewPCG(28, 10))
	for _, name := range []string{"Fedora-AtomicHost-28-20181025.0.x86_64.qcow2", "Fedora-AtomicHost-28-20181025.0.x86_64.raw.xz"} {
		data := make([]byte, 150_000+r.IntN(100_000))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
		sum := sha256.Sum256(data)
		sums[name] = hex.EncodeToString(sum[:])
		fmt.Fprintf(&checksum, "# %s: %d bytes\nSHA256 (%s) = %s\n", name, len(data), name, sums[name])
	}
	checksumFile := filepath.Join(work, "Fedora-AtomicHost-28-20181025.0-x86_64-CHECKSUM")
	os.WriteFile(checksumFile, []byte(checksum.String()), 0o644)

	// 2. Import and sign, with a release key of the test's own.
	keys := filepath.Join(work, "keys")
	os.MkdirAll(keys, 0o755)
	run(t, sitegen, "keygen", "--out", filepath.Join(work, "release"))
	run(t, sitegen, "keygen", "--out", filepath.Join(work, "site"))
	os.Rename(filepath.Join(work, "release.pub"), filepath.Join(keys, "release.pub"))
	siteKeys := filepath.Join(work, "sitekeys")
	os.MkdirAll(siteKeys, 0o755)
	os.Rename(filepath.Join(work, "site.pub"), filepath.Join(siteKeys, "site.pub"))
	manifestFile := filepath.Join(compose, "stable", release+".json")
	// Relative locations, as the shipped import unit writes them: each
	// mirror serves the files at the same place below its own URL.
	run(t, sitegen, "import", "checksum", checksumFile, "--stream", "stable", "--release", release,
		"--dir", "Fedora-Atomic-"+release+"/x86_64", "--out", manifestFile)
	run(t, sitegen, "sign", "--key", filepath.Join(work, "release.key"), manifestFile)

	// 3. The release files to the primary (the manifest goes up after the
	// images), and from the primary's bucket to a region, each file checked
	// against its signed manifest on the way.
	run(t, mirror, "sync", compose, "s3://atomic", "--endpoint", srv.Endpoint, "--keys", keys, "--progress", "none")
	run(t, mirror, "sync", "s3://atomic", "s3://atomic-eu", "--src-endpoint", srv.Endpoint, "--endpoint", srv.Endpoint,
		"--keys", keys, "--progress", "none")

	// 4. The site, from the primary's manifests.
	cfg := filepath.Join(work, "sitegen.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`title = "Fedora Atomic Host"
base-url = "https://atomic.example.org/"
downloads-url = %q

[[streams]]
name = "stable"
title = "Fedora Atomic Host 28"

[[mirrors]]
name = "EU"
base-url = %q
country = "de"
priority = 2
`, srv.Endpoint+"/atomic/", srv.Endpoint+"/atomic-eu/")), 0o644)
	site := filepath.Join(work, "site")
	const now = "2018-10-26T00:00:00Z"
	run(t, sitegen, "build", "--manifests", "s3://atomic", "--endpoint", srv.Endpoint, "--keys", keys, "--config", cfg,
		"--out", site, "--now", now, "--sign-key", filepath.Join(work, "site.key"))

	// 5. An ostree repository with a test commit.
	repo := filepath.Join(work, "repo")
	fixture.Command(t, "ostree", "--repo="+repo, "init", "--mode=archive")
	tree := filepath.Join(work, "tree", "usr", "bin")
	os.MkdirAll(tree, 0o755)
	os.WriteFile(filepath.Join(tree, "hello"), []byte("hello\n"), 0o755)
	commit := fixture.Command(t, "ostree", "--repo="+repo, "commit", "-b", "fedora/28/x86_64/atomic-host", "--tree=dir="+filepath.Dir(filepath.Dir(tree)), "-s", "test")
	fixture.Command(t, "ostree", "--repo="+repo, "summary", "-u")
	run(t, mirror, "sync", repo, "s3://atomic/repo", "--endpoint", srv.Endpoint, "--progress", "none")

	// 6. Every download link and every Metalink URL gives the bytes the
	// manifest names.
	page, err := os.ReadFile(filepath.Join(site, "streams", "stable", release, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	check := func(url string) {
		t.Helper()
		name := url[strings.LastIndex(url, "/")+1:]
		want, ok := sums[name]
		if !ok {
			t.Errorf("%s: not a file of the compose", url)
			return
		}
		resp, err := http.Get(url)
		if err != nil {
			t.Errorf("%s: %v", url, err)
			return
		}
		defer resp.Body.Close()
		h := sha256.New()
		io.Copy(h, resp.Body)
		if got := hex.EncodeToString(h.Sum(nil)); resp.StatusCode != 200 || got != want {
			t.Errorf("%s: %s, sha256 %s, want %s", url, resp.Status, got, want)
		}
		checked++
	}
	downloads := func(page []byte) {
		t.Helper()
		links := regexp.MustCompile(`<a href="([^"]+)" aria-label="Download `).FindAllStringSubmatch(string(page), -1)
		if len(links) != len(sums) {
			t.Errorf("build page links %d downloads, want %d", len(links), len(sums))
		}
		for _, l := range links {
			check(l[1])
		}
	}
	downloads(page)
	// A mirror's own site, built from the manifests the mirror's bucket
	// holds, links only files that bucket has.
	mirrorSite := func(bucket, baseURL string) {
		t.Helper()
		cfg := filepath.Join(work, "sitegen-"+bucket+".toml")
		os.WriteFile(cfg, []byte(fmt.Sprintf("title = \"Fedora Atomic Host\"\nbase-url = %q\ndownloads-url = %q\n\n[[streams]]\nname = \"stable\"\ntitle = \"Fedora Atomic Host 28\"\n",
			baseURL, srv.Endpoint+"/"+bucket+"/")), 0o644)
		out := filepath.Join(work, "site-"+bucket)
		run(t, sitegen, "build", "--manifests", "s3://"+bucket, "--endpoint", srv.Endpoint, "--keys", keys, "--config", cfg,
			"--out", out, "--now", now)
		page, err := os.ReadFile(filepath.Join(out, "streams", "stable", release, "index.html"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(page), srv.Endpoint+"/"+bucket+"/") {
			t.Errorf("the site of %s does not link it", bucket)
		}
		downloads(page)
	}
	mirrorSite("atomic-eu", "https://eu.atomic.example.org/")
	// A downstream mirror of the release files over HTTP: the primary's
	// web address as SRC, and the site (built now, so that its index is
	// fresh) to say which manifests there are.
	srv.Bucket(t, "downstream", "")
	live := filepath.Join(work, "site-live")
	run(t, sitegen, "build", "--manifests", "s3://atomic", "--endpoint", srv.Endpoint, "--keys", keys, "--config", cfg,
		"--out", live, "--sign-key", filepath.Join(work, "site.key"))
	web := httptest.NewServer(http.FileServer(http.Dir(live)))
	defer web.Close()
	run(t, mirror, "sync", srv.Endpoint+"/atomic/", "s3://downstream", "--endpoint", srv.Endpoint, "--keys", keys,
		"--manifests", web.URL+"/", "--progress", "none")
	mirrorSite("downstream", "https://mirror.example.edu/")
	metalinks, _ := filepath.Glob(filepath.Join(site, "streams", "stable", release, "*.meta4"))
	if len(metalinks) != len(sums) {
		t.Errorf("%d metalinks, want %d", len(metalinks), len(sums))
	}
	for _, ml := range metalinks {
		data, _ := os.ReadFile(ml)
		urls := regexp.MustCompile(`<url[^>]*>([^<]+)</url>`).FindAllStringSubmatch(string(data), -1)
		if len(urls) != 2 {
			t.Errorf("%s lists %d URLs, want the primary and the second mirror", ml, len(urls))
		}
		for _, u := range urls {
			check(u[1])
		}
	}
	t.Logf("figure: pipeline: %d download and Metalink URLs fetched, every one with the manifest's sha256", checked)

	// A real client pulls the commit from the mirror.
	client := filepath.Join(work, "client")
	fixture.Command(t, "ostree", "--repo="+client, "init", "--mode=archive")
	fixture.Command(t, "ostree", "--repo="+client, "remote", "add", "--no-gpg-verify", "origin", srv.Endpoint+"/atomic/repo")
	fixture.Command(t, "ostree", "--repo="+client, "pull", "origin", "fedora/28/x86_64/atomic-host")
	if got := fixture.Command(t, "ostree", "--repo="+client, "rev-parse", "origin:fedora/28/x86_64/atomic-host"); got != commit {
		t.Errorf("client at %s, want %s", got, commit)
	}

	if out := run(t, sitegen, "announce", "--stream", "stable", "--keys", keys, "--manifests", "s3://atomic", "--endpoint", srv.Endpoint, "--config", cfg, "--now", now); !strings.Contains(out, release) {
		t.Errorf("announcement does not name %s:\n%s", release, out)
	}
	run(t, sitegen, "check", site, "--keys", siteKeys, "--now", now)
}
