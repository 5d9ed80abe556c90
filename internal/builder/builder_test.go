package builder_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/builder"
	"github.com/projectatomic/atomic-site/internal/history"
	"github.com/projectatomic/atomic-site/internal/lockfile"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/rollback"
	"github.com/projectatomic/atomic-site/internal/testkit/golden"
	"github.com/projectatomic/atomic-site/internal/testkit/synth"
	"github.com/projectatomic/atomic-site/internal/trust"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the rendered site")

const repo = "../.."

var exampleNow = time.Date(2018, 6, 10, 0, 0, 0, 0, time.UTC)

func exampleOptions(manifests string) builder.Options {
	return builder.Options{
		ProjectDir: repo,
		History: history.Options{
			Manifests: manifests,
			Keys:      filepath.Join(repo, "testdata", "keys"),
			Config:    filepath.Join(repo, "site", "sitegen.toml"),
			Now:       exampleNow,
		},
	}
}

func build(t *testing.T, opts builder.Options) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "public")
	if _, err := builder.Build(context.Background(), opts, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestGolden renders the example history at a fixed time and compares every
// output with testdata/golden: the pages, and what tools read (stream
// metadata, release index, updates, feeds, CHECKSUM files, _redirects,
// sitemap, robots.txt). Run with -update to rewrite them; review the diff,
// above all after a Hugo upgrade. Not compared: the published manifests
// (byte copies of the verified files, checked by
// TestPublishedManifestsAreTheVerifiedBytes) and the fingerprinted assets.
func TestGolden(t *testing.T) {
	out := build(t, exampleOptions(filepath.Join(repo, "testdata", "manifests")))
	got := map[string][]byte{}
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		switch filepath.ToSlash(rel) {
		case "manifests", "css", "js":
			return filepath.SkipDir
		}
		if !d.IsDir() {
			got[filepath.ToSlash(rel)] = []byte(read(t, p))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk the built site: %v", err)
	}
	golden.Check(t, filepath.Join("testdata", "golden"), got, *update)
}

func TestBuildIsReproducible(t *testing.T) {
	opts := exampleOptions(filepath.Join(repo, "testdata", "manifests"))
	a, b := build(t, opts), build(t, opts)
	filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		if read(t, p) != read(t, filepath.Join(b, rel)) {
			t.Errorf("%s differs between two builds of the same inputs", rel)
		}
		return nil
	})
}

// A bad file anywhere fails the build and leaves the published site as it
// was, with no staging directory left behind.
func TestFailedBuildKeepsPreviousSite(t *testing.T) {
	manifests := t.TempDir()
	os.CopyFS(manifests, os.DirFS(filepath.Join(repo, "testdata", "manifests")))
	opts := exampleOptions(manifests)
	parent := t.TempDir()
	out := filepath.Join(parent, "public")
	if _, err := builder.Build(context.Background(), opts, out); err != nil {
		t.Fatal(err)
	}
	before := read(t, filepath.Join(out, "index.html"))

	p := filepath.Join(manifests, "testing", "28.20180604.1.json")
	data := []byte(read(t, p))
	data[100] ^= 1
	os.WriteFile(p, data, 0o644)
	_, err := builder.Build(context.Background(), opts, out)
	if err == nil || !strings.Contains(err.Error(), "testing/28.20180604.1.json: signature does not verify") {
		t.Fatalf("err = %v, want a signature error naming the file", err)
	}
	if after := read(t, filepath.Join(out, "index.html")); after != before {
		t.Error("the published site changed after a failed build")
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Errorf("%d entries beside the site, want only public/", len(entries))
	}
}

// scenario writes a signed history with the test key.
func scenario(t *testing.T, write func(dir string, s *trust.Signer)) string {
	t.Helper()
	s, err := trust.LoadSigner(filepath.Join(repo, "testdata", "test-signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write(dir, s)
	return dir
}

func day(d int) time.Time { return time.Date(2018, 5, d, 6, 0, 0, 0, time.UTC) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestStates(t *testing.T) {
	const bug = "https://bugzilla.example.org/show_bug.cgi?id="
	tests := []struct {
		name    string
		history func(t *testing.T, dir string, s *trust.Signer)
		now     time.Time
		page    string
		want    []string
		not     []string
	}{
		{"fresh", func(t *testing.T, dir string, s *trust.Signer) {
			must(t, synth.WriteBuild(dir, s, synth.Build("stable", "28.20180501.0", day(1))))
		}, day(2), "index.html",
			[]string{"28.20180501.0", synth.Sum("x86_64/Fedora-AtomicHost-28.20180501.0.x86_64.qcow2-disk"), "rpm-ostree rebase fedora-atomic:fedora/28/x86_64/atomic-host"},
			[]string{"notice-stale", "notice-revoked"}},
		{"sizes not known", func(t *testing.T, dir string, s *trust.Signer) {
			b := synth.Build("stable", "28.20180501.0", day(1))
			for _, p := range b.Architectures["x86_64"].Media {
				for _, f := range p.Artifacts {
					for _, a := range f {
						a.Size = nil
					}
				}
			}
			must(t, synth.WriteBuild(dir, s, b))
		}, day(2), "index.html",
			[]string{"x86_64 qemu image, qcow2, unknown"},
			[]string{" MiB"}},
		{"sizes not known, the build's page", func(t *testing.T, dir string, s *trust.Signer) {
			b := synth.Build("stable", "28.20180501.0", day(1))
			b.Architectures["x86_64"].Media["qemu"].Artifacts["qcow2"]["disk"].Size = nil
			must(t, synth.WriteBuild(dir, s, b))
		}, day(2), "streams/stable/28.20180501.0/index.html",
			[]string{`<td class="num">unknown</td>`, `<td class="num"><data value="`},
			nil},
		{"stale", func(t *testing.T, dir string, s *trust.Signer) {
			must(t, synth.WriteBuild(dir, s, synth.Build("stable", "28.20180501.0", day(1))))
			must(t, synth.WriteBuild(dir, s, synth.Failed(synth.Build("stable", "28.20180520.0", day(20)), bug+"42")))
		}, day(25), "index.html",
			[]string{"notice-stale", `stale since <time datetime="2018-05-15">May 15, 2018</time>`, "28.20180501.0 is still the newest good build", bug + "42", `/streams/stable/28.20180520.0/`},
			[]string{"notice-revoked"}},
		{"stale current build's own page", func(t *testing.T, dir string, s *trust.Signer) {
			must(t, synth.WriteBuild(dir, s, synth.Build("stable", "28.20180501.0", day(1))))
			must(t, synth.WriteBuild(dir, s, synth.Failed(synth.Build("stable", "28.20180520.0", day(20)), bug+"42")))
		}, day(25), "streams/stable/28.20180501.0/index.html",
			[]string{"notice-stale", `stale since <time datetime="2018-05-15">May 15, 2018</time>`, "28.20180501.0 is still the newest good build", bug + "42", ", build 28.20180501.0</h1>"},
			[]string{"notice-revoked"}},
		{"revoked current", func(t *testing.T, dir string, s *trust.Signer) {
			must(t, synth.WriteBuild(dir, s, synth.Build("stable", "28.20180501.0", day(1))))
			must(t, synth.WriteBuild(dir, s, synth.Build("stable", "28.20180508.0", day(8))))
			must(t, synth.WriteRevocation(dir, s, "stable", "28.20180508.0", bug+"7", day(9)))
		}, day(10), "index.html",
			[]string{"Build 28.20180508.0 was withdrawn", bug + "7", "the previous good build, <a href=\"/streams/stable/28.20180501.0/\">28.20180501.0</a>, is offered instead", "image of 28.20180501.0"},
			[]string{"image of 28.20180508.0", "notice-stale"}},
		{"revoked build's own page", func(t *testing.T, dir string, s *trust.Signer) {
			must(t, synth.WriteBuild(dir, s, synth.Build("stable", "28.20180501.0", day(1))))
			must(t, synth.WriteBuild(dir, s, synth.Build("stable", "28.20180508.0", day(8))))
			must(t, synth.WriteRevocation(dir, s, "stable", "28.20180508.0", bug+"7", day(9)))
		}, day(10), "streams/stable/28.20180508.0/index.html",
			[]string{"This build was withdrawn", `on <time datetime="2018-05-09">May 9, 2018</time>`, bug + "7", `When it was withdrawn, <a href="/streams/stable/28.20180501.0/">28.20180501.0</a> was offered in its place`, `The stream's current build is on <a href="/streams/stable/">its page</a>`, "not offered for download"},
			[]string{"Download Fedora-AtomicHost"}},
		{"all revoked", func(t *testing.T, dir string, s *trust.Signer) {
			must(t, synth.WriteBuild(dir, s, synth.Build("stable", "28.20180501.0", day(1))))
			must(t, synth.WriteRevocation(dir, s, "stable", "28.20180501.0", bug+"8", day(2)))
		}, day(3), "index.html",
			[]string{"No build of this stream can be downloaded right now", "Every build that passed its tests has been withdrawn", "No earlier build can be offered in its place"},
			[]string{"Download Fedora-AtomicHost", "notice-stale"}},
		{"failed only", func(t *testing.T, dir string, s *trust.Signer) {
			must(t, synth.WriteBuild(dir, s, synth.Failed(synth.Build("stable", "28.20180501.0", day(1)), bug+"9")))
		}, day(3), "index.html",
			[]string{"No build has passed its tests yet", bug + "9"},
			[]string{"Download Fedora-AtomicHost"}},
		{"failed build's own page", func(t *testing.T, dir string, s *trust.Signer) {
			must(t, synth.WriteBuild(dir, s, synth.Failed(synth.Build("stable", "28.20180501.0", day(1)), bug+"9")))
		}, day(3), "streams/stable/28.20180501.0/index.html",
			[]string{"This build failed its tests", bug + "9", "not offered for download"},
			[]string{"Download Fedora-AtomicHost"}},
		{"no builds yet", func(t *testing.T, dir string, s *trust.Signer) {
			must(t, os.MkdirAll(filepath.Join(dir, "stable"), 0o755))
		}, day(3), "index.html",
			[]string{"Fedora Atomic Host 28, testing", "No build has been published yet"},
			[]string{"Download Fedora-AtomicHost"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := scenario(t, func(dir string, s *trust.Signer) { tt.history(t, dir, s) })
			opts := exampleOptions(dir)
			opts.History.Now = tt.now
			html := read(t, filepath.Join(build(t, opts), tt.page))
			for _, w := range tt.want {
				if !strings.Contains(html, w) {
					t.Errorf("%s does not contain %q", tt.page, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(html, n) {
					t.Errorf("%s contains %q", tt.page, n)
				}
			}
		})
	}
}

func TestSitemapAndRobots(t *testing.T) {
	out := build(t, exampleOptions(filepath.Join(repo, "testdata", "manifests")))
	var sm struct {
		URLs []struct {
			Loc     string `xml:"loc"`
			Lastmod string `xml:"lastmod"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal([]byte(read(t, filepath.Join(out, "sitemap.xml"))), &sm); err != nil {
		t.Fatal(err)
	}
	locs := map[string]string{}
	for _, u := range sm.URLs {
		locs[u.Loc] = u.Lastmod
		if strings.Contains(u.Loc, "/state/") {
			t.Errorf("sitemap lists the headless %s", u.Loc)
		}
	}
	for _, want := range []string{"https://atomic.fedoraproject.org/", "https://atomic.fedoraproject.org/streams/stable/", "https://atomic.fedoraproject.org/verify/"} {
		if _, ok := locs[want]; !ok {
			t.Errorf("sitemap lacks %s", want)
		}
	}
	if lm := locs["https://atomic.fedoraproject.org/streams/testing/28.20180604.1/"]; !strings.HasPrefix(lm, "2018-06-04") {
		t.Errorf("build page lastmod = %q", lm)
	}
	robots := read(t, filepath.Join(out, "robots.txt"))
	if !strings.Contains(robots, "Sitemap: https://atomic.fedoraproject.org/sitemap.xml") {
		t.Errorf("robots.txt:\n%s", robots)
	}
}

// Each released build's page comes with a CHECKSUM that sha256sum -c
// accepts for the real files, and rejects a damaged one; a failed build
// has none.
func TestChecksumFile(t *testing.T) {
	files := t.TempDir()
	dir := scenario(t, func(dir string, s *trust.Signer) {
		b := synth.Build("stable", "28.20180501.0", day(1))
		for f := range b.Files() {
			data := []byte("content of " + f.Location)
			os.WriteFile(filepath.Join(files, filepath.Base(f.Location)), data, 0o644)
			sum := sha256.Sum256(data)
			f.SHA256, *f.Size = hex.EncodeToString(sum[:]), int64(len(data))
		}
		must(t, synth.WriteBuild(dir, s, b))
		must(t, synth.WriteBuild(dir, s, synth.Failed(synth.Build("stable", "28.20180502.0", day(2)), "https://bugzilla.example.org/1")))
	})
	opts := exampleOptions(dir)
	opts.History.Now = day(3)
	out := build(t, opts)
	sums := read(t, filepath.Join(out, "streams", "stable", "28.20180501.0", "CHECKSUM"))
	if !strings.Contains(sums, "# Fedora-AtomicHost-28.20180501.0.x86_64.qcow2-disk: ") {
		t.Errorf("CHECKSUM:\n%s", sums)
	}
	os.WriteFile(filepath.Join(files, "CHECKSUM"), []byte(sums), 0o644)
	check := func() error {
		cmd := exec.Command("sha256sum", "-c", "CHECKSUM")
		cmd.Dir = files
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	if err := check(); err != nil {
		t.Fatalf("sha256sum -c: %v", err)
	}
	os.WriteFile(filepath.Join(files, "Fedora-AtomicHost-28.20180501.0.x86_64.iso-disk"), []byte("damaged"), 0o644)
	if check() == nil {
		t.Error("sha256sum -c passed a damaged file")
	}
	if _, err := os.Stat(filepath.Join(out, "streams", "stable", "28.20180502.0", "CHECKSUM")); err == nil {
		t.Error("a failed build has a CHECKSUM")
	}
}

// The site publishes every verified manifest and its signature under
// /manifests/, byte for byte, and nothing else there.
func TestPublishedManifestsAreTheVerifiedBytes(t *testing.T) {
	src := filepath.Join(repo, "testdata", "manifests")
	out := build(t, exampleOptions(src))
	list := func(root string) []string {
		var rels []string
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(root, p)
				rels = append(rels, rel)
			}
			return err
		})
		return rels
	}
	got, want := list(filepath.Join(out, "manifests")), list(src)
	if !slices.Equal(got, want) {
		t.Fatalf("published manifests = %v\nwant %v", got, want)
	}
	for _, rel := range want {
		if read(t, filepath.Join(out, "manifests", rel)) != read(t, filepath.Join(src, rel)) {
			t.Errorf("manifests/%s differs from %s", rel, filepath.Join(src, rel))
		}
	}
}

// historyAsOf copies the example history as it stood at now: without the
// builds and revocations signed after it, which a site built at now would
// refuse as dated in the future.
func historyAsOf(t *testing.T, now time.Time) string {
	t.Helper()
	src := filepath.Join(repo, "testdata", "manifests")
	dst := t.TempDir()
	files, _ := filepath.Glob(filepath.Join(src, "*", "*.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := manifest.Parse(f, data)
		if err != nil {
			t.Fatal(err)
		}
		if (m.Build != nil && m.Build.Date.After(now)) || (m.Revocation != nil && m.Revocation.RevokedAt.After(now)) {
			continue
		}
		rel, _ := filepath.Rel(src, f)
		os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755)
		sig, _ := os.ReadFile(f + trust.SigSuffix)
		os.WriteFile(filepath.Join(dst, rel), data, 0o644)
		os.WriteFile(filepath.Join(dst, rel)+trust.SigSuffix, sig, 0o644)
	}
	return dst
}

// The rollback rule against a deployed site (--previous URL), and between
// the rebuilds of a Builder kept alive (serve).
func TestRollbackAgainstURLAndBetweenRebuilds(t *testing.T) {
	manifests := t.TempDir()
	if err := os.CopyFS(manifests, os.DirFS(filepath.Join(repo, "testdata", "manifests"))); err != nil {
		t.Fatal(err)
	}
	opts := exampleOptions(manifests)
	live := build(t, opts)
	srv := httptest.NewServer(http.FileServer(http.Dir(live)))
	defer srv.Close()

	b, err := builder.New(opts, t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Rebuild(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	// A new build of the other stream: the rebuild after it judges again
	// only what changed (stable), and remembers testing as published.
	signer, err := trust.LoadSigner(filepath.Join(repo, "testdata", "test-signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	must(t, synth.WriteBuild(manifests, signer, synth.Build("stable", "28.20180606.0", time.Date(2018, 6, 6, 6, 0, 0, 0, time.UTC), "x86_64")))
	if _, err := b.Rebuild(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	newest := filepath.Join(manifests, "testing", "28.20180604.1.json")
	os.Remove(newest)
	os.Remove(newest + trust.SigSuffix)

	if _, err := b.Rebuild(context.Background(), nil); !errors.Is(err, rollback.ErrRollback) || !strings.Contains(err.Error(), "build 28.20180604.1 was published") {
		t.Errorf("serve's rebuild after deleting the newest manifest: %v, want a rollback", err)
	}
	opts.Previous = srv.URL + "/"
	out := filepath.Join(t.TempDir(), "public")
	if _, err := builder.Build(context.Background(), opts, out); !errors.Is(err, rollback.ErrRollback) {
		t.Errorf("build against the deployed site: %v, want a rollback", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the refused build was published")
	}
	opts.AllowRollback = true
	if _, err := builder.Build(context.Background(), opts, out); err != nil {
		t.Errorf("--allow-rollback: %v", err)
	}
}

// A build holds a lock beside --out: a second one is refused, naming the
// holder. Holding it, a build removes what killed builds left.
func TestBuildLockAndLeftovers(t *testing.T) {
	opts := exampleOptions(filepath.Join(repo, "testdata", "manifests"))
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	for _, d := range []string{".public.new-111", ".public.new-222.old"} {
		os.MkdirAll(filepath.Join(dir, d, "streams"), 0o755)
		os.WriteFile(filepath.Join(dir, d, "streams", "x.html"), make([]byte, 1000), 0o644)
	}
	res, err := builder.Build(context.Background(), opts, out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Leftovers != 2 || res.Freed != 2000 {
		t.Errorf("removed %d leftovers, %d bytes; want 2 and 2000", res.Leftovers, res.Freed)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 || ents[0].Name() != "public" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("beside the site: %v, want public alone", names)
	}

	// Another build holds the lock (a process of another host).
	os.WriteFile(builder.LockPath(out), []byte(`{"host":"bot.example.org","pid":77,"started":"2026-11-29T10:00:00Z"}`), 0o644)
	_, err = builder.Build(context.Background(), opts, out)
	if !errors.Is(err, lockfile.ErrLocked) || !strings.Contains(err.Error(), "another sitegen build (host bot.example.org, pid 77") {
		t.Errorf("build while another holds the lock: %v", err)
	}
}

// Every page names the favicon, and it is there: browsers ask for it.
func TestFavicon(t *testing.T) {
	out := build(t, exampleOptions(filepath.Join(repo, "testdata", "manifests")))
	ico, err := os.ReadFile(filepath.Join(out, "favicon.ico"))
	if err != nil || len(ico) < 6 || string(ico[:4]) != "\x00\x00\x01\x00" {
		t.Fatalf("favicon.ico: %d bytes, %v; want an icon", len(ico), err)
	}
	if !strings.Contains(read(t, filepath.Join(out, "index.html")), `<link rel="icon" href="/favicon.ico"`) {
		t.Error("the home page does not link the favicon")
	}
}

// A build page shows a GCE image beside the AMIs, with its gcloud line.
func TestGCEImageOnBuildPage(t *testing.T) {
	manifests := t.TempDir()
	s, err := trust.LoadSigner(filepath.Join(repo, "testdata", "test-signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	b := synth.Build("stable", "33.20201201.3.0", time.Date(2020, 12, 1, 0, 0, 0, 0, time.UTC))
	b.Architectures["x86_64"].Media["gcp"] = &manifest.Platform{Image: json.RawMessage(
		`{"project":"fedora-coreos-cloud","family":"fedora-coreos-stable","name":"fedora-coreos-33-20201201-3-0-gcp-x86-64"}`)}
	if err := synth.WriteBuild(manifests, s, b); err != nil {
		t.Fatal(err)
	}
	opts := exampleOptions(manifests)
	opts.History.Now = time.Date(2020, 12, 2, 0, 0, 0, 0, time.UTC)
	page := read(t, filepath.Join(build(t, opts), "streams", "stable", "33.20201201.3.0", "index.html"))
	for _, want := range []string{
		"<td>gcp</td>",
		"<code>fedora-coreos-33-20201201-3-0-gcp-x86-64</code>",
		"<code>gcloud compute instances create NAME --image-project fedora-coreos-cloud --image-family fedora-coreos-stable</code>",
		"launchAmi=", // the AMIs are still there
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the build page lacks %q", want)
		}
	}
}

// Past view.HistoryLimit builds, a stream's page lists the newest ones
// and links a page per year, which lists every build of that year once.
func TestHistoryByYear(t *testing.T) {
	manifests := t.TempDir()
	s, err := trust.LoadSigner(filepath.Join(repo, "testdata", "test-signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := synth.History(manifests, s, synth.Spec{Streams: []string{"stable"}, Builds: 120,
		Arches: []string{"x86_64"}, Start: time.Date(2017, 11, 1, 0, 0, 0, 0, time.UTC), FailEvery: 17})
	if err != nil {
		t.Fatal(err)
	}
	opts := exampleOptions(manifests)
	opts.History.Now = time.Date(2018, 3, 1, 0, 0, 0, 0, time.UTC)
	out := build(t, opts)
	stream := read(t, filepath.Join(out, "streams", "stable", "index.html"))
	if n := strings.Count(stream, `<tr class="status-`); n != 50 {
		t.Errorf("the stream page lists %d builds, want the newest 50", n)
	}
	for _, want := range []string{`<a href="/streams/stable/history/2018/">2018</a>`, `<a href="/streams/stable/history/2017/">2017</a>`} {
		if !strings.Contains(stream, want) {
			t.Errorf("the stream page lacks %s", want)
		}
	}
	seen := map[string]int{}
	for _, y := range []string{"2017", "2018"} {
		page := read(t, filepath.Join(out, "streams", "stable", "history", y, "index.html"))
		for _, id := range ids {
			rel := strings.TrimPrefix(id, "stable/")
			if strings.Contains(page, `href="/streams/stable/`+rel+`/"`) {
				seen[rel]++
				if rel[3:7] != y {
					t.Errorf("%s is on the page of %s", rel, y)
				}
			}
		}
	}
	for _, id := range ids {
		if rel := strings.TrimPrefix(id, "stable/"); seen[rel] != 1 {
			t.Errorf("%s is on %d year pages, want 1", rel, seen[rel])
		}
	}
	if p := read(t, filepath.Join(out, "streams", "stable", "history", "2018", "index.html")); !strings.Contains(p, `rel="prev"`) {
		t.Error("the 2018 page does not link the older year")
	}
}

// The home page stays small with three streams of three architectures of
// eight files each: each stream's first choice, and one line per
// architecture linking its full table on the stream's page, one click
// away.
func TestHomePageSmall(t *testing.T) {
	manifests := t.TempDir()
	s, err := trust.LoadSigner(filepath.Join(repo, "testdata", "test-signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.History(manifests, s, synth.Spec{Streams: []string{"stable", "testing", "next"}, Builds: 30,
		Arches: []string{"aarch64", "ppc64le", "x86_64"}, Start: time.Date(2018, 5, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	out := build(t, exampleOptions(manifests))
	home := read(t, filepath.Join(out, "index.html"))
	const max = 30 << 10
	if len(home) > max {
		t.Errorf("the home page has %d bytes, more than %d", len(home), max)
	}
	links := regexp.MustCompile(`href="(/streams/(\w+)/)#images-(\w+)"`).FindAllStringSubmatch(home, -1)
	if len(links) != 9 {
		t.Fatalf("%d links to architectures' tables on the home page, want 3 streams x 3", len(links))
	}
	for i, l := range links {
		if want := []string{"x86_64", "aarch64", "ppc64le"}[i%3]; l[3] != want {
			t.Errorf("link %d is to %s, want %s: the config's order", i, l[3], want)
		}
		page := read(t, filepath.Join(out, "streams", l[2], "index.html"))
		table := page[strings.Index(page, `id="images-`+l[3]+`"`):]
		if n := strings.Count(table[:strings.Index(table, "</table>")], `aria-label="Download `); n != 8 {
			t.Errorf("%s#images-%s: %d downloads, want 8", l[1], l[3], n)
		}
	}
	t.Logf("figure: home page %d bytes (3 streams x 3 architectures x 8 files)", len(home))
}
