package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/siteindex"
	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/testkit/faultproxy"
	"github.com/projectatomic/atomic-site/internal/testkit/fixture"
	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// upstream serves an archive repository over HTTP, as a mirror's web
// server does, counting the requests for each kind of file (HEAD requests
// apart).
type upstream struct {
	*httptest.Server
	repo string
	mu   sync.Mutex
	hits map[string]int // by extension or file name
	// before, when set, runs before a request is answered.
	before func(path string)
}

func serveRepo(t *testing.T, repo string) *upstream {
	u := &upstream{repo: repo, hits: map[string]int{}}
	files := http.FileServer(http.Dir(repo))
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u.before != nil {
			u.before(r.URL.Path)
		}
		kind := filepath.Ext(r.URL.Path)
		if kind == "" {
			kind = filepath.Base(r.URL.Path)
		}
		if r.Method == http.MethodHead {
			kind = "HEAD " + kind // asked for its size, not fetched
		}
		u.mu.Lock()
		u.hits[kind]++
		u.mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) count(kind string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.hits[kind]
}

func (u *upstream) reset() {
	u.mu.Lock()
	u.hits = map[string]int{}
	u.mu.Unlock()
}

// serveDir serves a local destination to a client.
func serveDir(t *testing.T, dir string) string {
	s := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(s.Close)
	return s.URL
}

// contentFiles lists a destination's files and their bytes, the mirror's
// own state aside.
func contentFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasPrefix(rel, ".mirror") {
			return nil
		}
		data, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func syncJSON(t *testing.T, args ...string) (rep struct {
	Files       int   `json:"uploaded_files"`
	Bytes       int64 `json:"uploaded_bytes"`
	Copied      int   `json:"server_copied_files"`
	CopiedBytes int64 `json:"server_copied_bytes"`
	Skipped     int   `json:"skipped"`
	Complete    bool  `json:"complete"`
}) {
	t.Helper()
	out, errs, code := mirrorCmd(t, append(append([]string{"sync"}, args...), "--progress", "none", "--json")...)
	if code != 0 {
		t.Fatalf("mirror sync %v: exit %d\n%s%s", args, code, out, errs)
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || !rep.Complete {
		t.Fatalf("report %s: %v", out, err)
	}
	return rep
}

// A mirror of a mirror: synced from an upstream served over HTTP, the
// destination holds exactly what a sync of the upstream's own directory
// gives (with --depth 1, both commits; the static delta between them and
// its index), a real client pulls and fscks it,
// and verify --deep finds nothing. A second run fetches no object and
// uploads nothing; after a new upstream commit, only the objects the
// destination lacks are fetched.
func TestSyncFromHTTP(t *testing.T) {
	repo, first := newRepo(t, 200, 31)
	second := commitTree(t, repo, 200, 32, "two")
	ostreeCmd(t, "--repo="+repo, "static-delta", "generate", "--from="+first, "--to="+second)
	ostreeCmd(t, "--repo="+repo, "summary", "-u")
	up := serveRepo(t, repo)

	dst := filepath.Join(t.TempDir(), "mirror")
	rep := syncJSON(t, up.URL+"/", dst, "--depth", "1")
	if rep.Files < 400 {
		t.Errorf("first run uploaded %d files", rep.Files)
	}
	direct := filepath.Join(t.TempDir(), "direct")
	syncJSON(t, repo, direct)
	got, want := contentFiles(t, dst), contentFiles(t, direct)
	if len(got) != len(want) {
		t.Errorf("mirror of the mirror: %d files, a sync of the directory: %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: differs from a sync of the upstream's directory", k)
			break
		}
	}
	if countExt(t, dst, "/superblock") != 1 || countExt(t, dst, ".index") != 1 {
		t.Errorf("the static delta and its index are not at the destination")
	}
	pullAndFsck(t, serveDir(t, dst), second)
	if out, errs, code := mirrorCmd(t, "verify", dst, "--deep"); code != 0 {
		t.Fatalf("verify --deep: exit %d\n%s%s", code, out, errs)
	}

	up.reset()
	rep = syncJSON(t, up.URL, dst, "--depth", "1")
	if rep.Files != 0 || up.count(".filez") != 0 || up.count(".dirtree") != 0 || up.count("superblock") != 0 || up.count("0") != 0 {
		t.Errorf("a run with nothing new uploaded %d files and fetched %d file objects, %d dirtrees, %d superblocks and %d delta parts",
			rep.Files, up.count(".filez"), up.count(".dirtree"), up.count("superblock"), up.count("0"))
	}

	third := commitTree(t, repo, 200, 33, "three")
	up.reset()
	before, filez := len(contentFiles(t, dst)), countExt(t, dst, ".filez")
	rep = syncJSON(t, up.URL, dst)
	added, newFilez := len(contentFiles(t, dst))-before, countExt(t, dst, ".filez")-filez
	// Random content: every file object of the new commit is new.
	if newFilez != 200 || up.count(".filez") != newFilez || rep.Files < added {
		t.Errorf("new commit of 200 files: %d new file objects at the destination, %d fetched; %d files uploaded, %d new", newFilez, up.count(".filez"), rep.Files, added)
	}
	pullAndFsck(t, serveDir(t, dst), third)
	summary, _ := os.ReadFile(filepath.Join(repo, "summary"))
	if got, _ := os.ReadFile(filepath.Join(dst, "summary")); !bytes.Equal(got, summary) {
		t.Error("the mirror's summary is not the upstream's bytes")
	}
	var tr mirror.Trace
	data, err := os.ReadFile(filepath.Join(dst, ".mirror", "trace.json"))
	if err == nil {
		err = json.Unmarshal(data, &tr)
	}
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	if tr.Source.Path != up.URL+"/" || tr.Source.Refs[ref] != third {
		t.Errorf("trace source %+v", tr.Source)
	}
}

// countExt counts a directory's files by extension.
func countExt(t *testing.T, dir, ext string) int {
	n := 0
	for k := range contentFiles(t, dir) {
		if strings.HasSuffix(k, ext) {
			n++
		}
	}
	return n
}

// An upstream that serves a corrupt or missing object stops the run
// before any ref or summary is published, naming the object, its URL and
// the ref that needs it; the destination's refs and summary stay as they
// were, and the run after the upstream is repaired completes.
func TestSyncFromHTTPRefusesBadObjects(t *testing.T) {
	for _, tt := range []struct {
		name  string
		ext   string
		spoil func(t *testing.T, path string)
		want  string
	}{
		{"corrupt file object", ".filez", flipLastBytes, "checksum mismatch"},
		{"corrupt dirtree", ".dirtree", flipLastBytes, "checksum mismatch"},
		{"missing file object", ".filez", removeFile, "404 Not Found"},
		{"missing dirtree", ".dirtree", removeFile, "404 Not Found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			repo := filepath.Join(t.TempDir(), "repo")
			ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
			first := commitTree(t, repo, 50, 41, "one")
			up := serveRepo(t, repo)
			dst := filepath.Join(t.TempDir(), "mirror")
			syncJSON(t, up.URL, dst)
			firstSummary, _ := os.ReadFile(filepath.Join(dst, "summary"))

			second := commitTree(t, repo, 50, 42, "two")
			obj := newObject(t, repo, dst, tt.ext)
			saved, _ := os.ReadFile(obj)
			tt.spoil(t, obj)
			out, errs, code := mirrorCmd(t, "sync", up.URL, dst, "--progress", "none")
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, errs)
			}
			rel, _ := filepath.Rel(repo, obj)
			line := strings.TrimSpace(errs)
			if strings.Contains(line, "\n") {
				t.Errorf("the error is more than one line:\n%s", line)
			}
			for _, want := range []string{rel, up.URL + "/" + rel, "ref " + ref, tt.want} {
				if !strings.Contains(line, want) {
					t.Errorf("error lacks %q:\n%s", want, line)
				}
			}
			if got, _ := os.ReadFile(filepath.Join(dst, "summary")); !bytes.Equal(got, firstSummary) {
				t.Error("the summary moved although an object was bad")
			}
			if _, err := os.Stat(filepath.Join(dst, rel)); err == nil {
				t.Errorf("%s was published", rel)
			}
			pullAndFsck(t, serveDir(t, dst), first)

			os.WriteFile(obj, saved, 0o644)
			syncJSON(t, up.URL, dst)
			pullAndFsck(t, serveDir(t, dst), second)
		})
	}
}

func flipLastBytes(t *testing.T, p string) {
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-2] ^= 0x40
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func removeFile(t *testing.T, p string) {
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}

// newObject finds an object of the upstream repository that the
// destination lacks.
func newObject(t *testing.T, repo, dst, ext string) string {
	t.Helper()
	var found string
	filepath.WalkDir(filepath.Join(repo, "objects"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != "" || !strings.HasSuffix(p, ext) {
			return err
		}
		rel, _ := filepath.Rel(repo, p)
		if _, err := os.Stat(filepath.Join(dst, rel)); os.IsNotExist(err) {
			if fi, _ := d.Info(); fi.Size() > 64 || ext != ".filez" {
				found = p
			}
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no new %s object upstream", ext)
	}
	return found
}

// The upstream publishes a new commit and summary while a run reads it:
// the run publishes the summary it read first, with the refs it names, and
// never a mix; the next run catches up.
func TestSyncFromMovingUpstream(t *testing.T) {
	repo, first := newRepo(t, 100, 51)
	summary, _ := os.ReadFile(filepath.Join(repo, "summary"))
	up := serveRepo(t, repo)
	var once sync.Once
	var second string
	up.before = func(p string) {
		if strings.HasSuffix(p, ".filez") {
			once.Do(func() { second = commitTree(t, repo, 100, 52, "two") })
		}
	}
	dst := filepath.Join(t.TempDir(), "mirror")
	syncJSON(t, up.URL, dst)
	if second == "" {
		t.Fatal("the upstream did not move during the run")
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "summary")); !bytes.Equal(got, summary) {
		t.Error("the summary published is not the one the run read first")
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "refs", "heads", ref)); strings.TrimSpace(string(got)) != first {
		t.Errorf("ref names %s, want the first summary's %s", got, first)
	}
	pullAndFsck(t, serveDir(t, dst), first)
	if out, errs, code := mirrorCmd(t, "verify", dst, "--deep"); code != 0 {
		t.Fatalf("verify --deep: exit %d\n%s%s", code, out, errs)
	}
	up.before = nil
	syncJSON(t, up.URL, dst)
	pullAndFsck(t, serveDir(t, dst), second)
}

// What a tired admin may type wrong, each refused in one line before
// anything is read or written.
func TestSyncFromHTTPRefusals(t *testing.T) {
	bare := filepath.Join(t.TempDir(), "bare")
	ostreeCmd(t, "--repo="+bare, "init", "--mode=bare-user")
	noSummary := filepath.Join(t.TempDir(), "nosummary")
	ostreeCmd(t, "--repo="+noSummary, "init", "--mode=archive")
	local := t.TempDir()
	bareURL, noSummaryURL := serveDir(t, bare), serveDir(t, noSummary)
	dst := filepath.Join(t.TempDir(), "mirror")
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sync", local, dst, "--ref", ref}, 2, "--ref, --depth and --gpg-keyring are for an http(s):// or s3:// SRC"},
		{[]string{"sync", noSummaryURL, dst, "--depth", "-1"}, 2, "--depth -1"},
		{[]string{"sync", noSummaryURL, dst, "--gpg-keyring", "a.gpg", "--gpg-import", "b.gpg"}, 2, "--gpg-keyring a.gpg and --gpg-import b.gpg: they are one flag under two names"},
		{[]string{"sync", noSummaryURL, dst, "--ref", "../x"}, 2, `--ref "../x": not a ref name`},
		{[]string{"sync", bareURL, dst}, 1, `mode "bare-user": only an archive-mode repository`},
		{[]string{"sync", noSummaryURL, dst}, 1, "has no summary: name the refs to mirror with --ref"},
		{[]string{"sync", noSummaryURL, dst, "--ref", "nope"}, 1, "ref nope: " + noSummaryURL + "/refs/heads/nope: 404 Not Found"},
		{[]string{"sync", "http://", dst}, 1, "not an http:// or https:// URL"},
		{[]string{"watch", noSummaryURL, dst}, 2, "SRC must be a local directory"},
	} {
		out, errs, code := mirrorCmd(t, append(tt.args, "--progress", "none")...)
		if code != tt.code || !strings.Contains(errs, tt.want) {
			t.Errorf("mirror %v: exit %d, want %d with %q\n%s%s", tt.args, code, tt.code, tt.want, out, errs)
		}
		if _, err := os.Stat(dst); err == nil {
			t.Fatalf("mirror %v wrote %s", tt.args, dst)
		}
	}
}

// An object too large to check in memory is spooled to disk, checked,
// uploaded to S3 and removed from the spool; a corrupt one is refused
// the same way, leaving nothing in the spool.
func TestSyncFromHTTPLargeObjectToS3(t *testing.T) {
	srv := s3server.Start(t)
	srv.Bucket(t, "atomic", "repo")
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	tree := t.TempDir()
	big := make([]byte, 6<<20)
	rand.NewChaCha8([32]byte{7}).Read(big) // incompressible: the object stays past 4 MiB
	os.MkdirAll(filepath.Join(tree, "usr", "lib"), 0o755)
	if err := os.WriteFile(filepath.Join(tree, "usr", "lib", "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	commit := ostreeCmd(t, "--repo="+repo, "commit", "-b", ref, "--tree=dir="+tree, "-s", "big")
	ostreeCmd(t, "--repo="+repo, "summary", "-u")
	var largest string
	var size int64
	filepath.WalkDir(filepath.Join(repo, "objects"), func(p string, d fs.DirEntry, err error) error {
		if fi, err := d.Info(); err == nil && !d.IsDir() && fi.Size() > size {
			largest, size = p, fi.Size()
		}
		return nil
	})
	if size <= 4<<20 {
		t.Fatalf("largest object %d bytes: the test needs one past the in-memory limit", size)
	}
	up := serveRepo(t, repo)
	spool := t.TempDir()
	t.Setenv("TMPDIR", spool)

	saved, _ := os.ReadFile(largest)
	flipLastBytes(t, largest)
	_, errs, code := mirrorCmd(t, "sync", up.URL, "s3://atomic/repo", "--endpoint", srv.Endpoint, "--progress", "none")
	if code != 1 || !strings.Contains(errs, "checksum mismatch") {
		t.Fatalf("a corrupt large object: exit %d\n%s", code, errs)
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("the spool keeps %d files", len(left))
	}
	os.WriteFile(largest, saved, 0o644)
	syncJSON(t, up.URL, "s3://atomic/repo", "--endpoint", srv.Endpoint)
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("the spool keeps %d files", len(left))
	}
	pullAndFsck(t, srv.Endpoint+"/atomic/repo", commit)
}

// Traces chain: a mirror of a mirror records its upstream's trace and
// when it read it; verify says how far behind each level was, and
// --against the upstream's URL whether this mirror is current. No trace
// names a local path of the host that wrote it.
func TestTracesChain(t *testing.T) {
	repo, _ := newRepo(t, 20, 61)
	primary := filepath.Join(t.TempDir(), "primary")
	syncJSON(t, repo, primary)
	primaryURL := serveDir(t, primary)
	region := filepath.Join(t.TempDir(), "region")
	syncJSON(t, primaryURL, region)

	out, errs, code := mirrorCmd(t, "verify", region, "--against", primaryURL)
	if code != 0 {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"up to date with " + primaryURL, "upstream " + primaryURL + "/ had last synced", "from a local directory (ostree)"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	for _, dir := range []string{primary, region} {
		data, err := os.ReadFile(filepath.Join(dir, ".mirror", "trace.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, local := range []string{repo, primary, os.TempDir()} {
			if bytes.Contains(data, []byte(local)) {
				t.Errorf("%s/.mirror/trace.json names %s", dir, local)
			}
		}
	}

	second := commitTree(t, repo, 20, 62, "two")
	syncJSON(t, repo, primary)
	out, _, _ = mirrorCmd(t, "verify", region, "--against", primaryURL)
	if !strings.Contains(out, "behind "+primaryURL) || !strings.Contains(out, "source "+second[:12]) {
		t.Errorf("verify of a region behind its upstream:\n%s", out)
	}
}

// A GPG-signed upstream, fetched through a proxy that fails 10% of the
// requests: with the upstream's key the run converges and a client that
// verifies commits and summary (gpg-verify, gpg-verify-summary) pulls from
// the downstream, in a directory and in MinIO; with another key, an
// unsigned commit or a summary signed by another key, nothing is
// published.
func TestSyncFromSignedUpstream(t *testing.T) {
	g, other := fixture.GPGKey(t), fixture.GPGKey(t)
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	first := commitTreeSigned(t, repo, 100, 81, "one", g.Sign())
	up := serveRepo(t, repo)
	proxy, err := faultproxy.New(up.URL, 0.10, 81, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	srv := s3server.Start(t)
	srv.Bucket(t, "atomic", "repo")
	dir := filepath.Join(t.TempDir(), "mirror")

	_, errs, code := mirrorCmd(t, "sync", up.URL, dir, "--gpg-keyring", other.Public, "--progress", "none")
	if code != 1 || !strings.Contains(errs, "summary: no valid signature by a trusted key") {
		t.Fatalf("another key: exit %d\n%s", code, errs)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("a refused run wrote the destination")
	}

	for _, dest := range []struct {
		args []string
		url  string
	}{
		{[]string{dir}, ""},
		{[]string{"s3://atomic/repo", "--endpoint", srv.Endpoint}, srv.Endpoint + "/atomic/repo"},
	} {
		args := append(append([]string{"sync", proxy.URL}, dest.args...), "--gpg-keyring", g.Public, "--progress", "none")
		converge(t, args)
		url := dest.url
		if url == "" {
			url = serveDir(t, dir)
		}
		if got, err := signedClient(t, url, g.Public).pull(); err != nil || got != first {
			t.Fatalf("verifying client from %s: %s, %v", dest.args[0], got, err)
		}
	}
	t.Logf("figure: %d requests through the proxy, %d faults", proxy.Requests.Load(), proxy.Injected())

	// A commit its summary names but nobody signed.
	ostreeCmd(t, "--repo="+repo, "commit", "-b", ref, "--tree=dir="+t.TempDir(), "-s", "unsigned")
	ostreeCmd(t, append([]string{"--repo=" + repo, "summary", "-u"}, g.Sign()...)...)
	_, errs, code = mirrorCmd(t, "sync", up.URL, dir, "--gpg-keyring", g.Public, "--progress", "none")
	if code != 1 || !strings.Contains(errs, "is not signed") {
		t.Fatalf("an unsigned commit: exit %d\n%s", code, errs)
	}
	// A summary signed by another key.
	second := commitTreeSigned(t, repo, 10, 82, "two", g.Sign())
	ostreeCmd(t, append([]string{"--repo=" + repo, "summary", "-u"}, other.Sign()...)...)
	_, errs, code = mirrorCmd(t, "sync", up.URL, dir, "--gpg-keyring", g.Public, "--progress", "none")
	if code != 1 || !strings.Contains(errs, "summary: no valid signature by a trusted key") {
		t.Fatalf("a summary signed by another key: exit %d\n%s", code, errs)
	}
	if got, err := signedClient(t, serveDir(t, dir), g.Public).pull(); err != nil || got != first {
		t.Fatalf("after the refusals the client gets %s, %v; want the first commit", got, err)
	}
	ostreeCmd(t, append([]string{"--repo=" + repo, "summary", "-u"}, g.Sign()...)...)
	syncJSON(t, up.URL, dir, "--gpg-import", g.Public) // ostree's name for it
	if got, err := signedClient(t, serveDir(t, dir), g.Public).pull(); err != nil || got != second {
		t.Fatalf("client gets %s, %v; want %s", got, err, second)
	}
}

// converge runs a sync until it succeeds, at most five times: through
// injected faults a run may fail, and the next one resumes.
func converge(t *testing.T, args []string) {
	t.Helper()
	for run := 1; ; run++ {
		out, errs, code := mirrorCmd(t, args...)
		if code == 0 {
			return
		}
		if run == 5 {
			t.Fatalf("mirror %v: still failing after %d runs: exit %d\n%s%s", args, run, code, out, errs)
		}
	}
}

// Static deltas come through a mirror of a mirror: a corrupt part is
// refused before any ref moves; a good one reaches MinIO, and a verifying
// client that is told to use static deltas only pulls the new commit
// through it.
func TestSyncFromHTTPStaticDelta(t *testing.T) {
	g := fixture.GPGKey(t)
	srv := s3server.Start(t)
	srv.Bucket(t, "atomic", "repo")
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	first := commitTreeSigned(t, repo, 60, 91, "first", g.Sign())
	up := serveRepo(t, repo)
	sync := []string{up.URL, "s3://atomic/repo", "--endpoint", srv.Endpoint, "--gpg-keyring", g.Public}
	syncJSON(t, sync...)
	c := signedClient(t, srv.Endpoint+"/atomic/repo", g.Public)
	if got, err := c.pull(); err != nil || got != first {
		t.Fatalf("pull: %s, %v", got, err)
	}

	second := commitTreeSigned(t, repo, 60, 92, "second", g.Sign())
	ostreeCmd(t, "--repo="+repo, "static-delta", "generate", "--from="+first, "--to="+second)
	ostreeCmd(t, append([]string{"--repo=" + repo, "summary", "-u"}, g.Sign()...)...)
	parts, _ := filepath.Glob(filepath.Join(repo, "deltas", "*", "*", "0"))
	if len(parts) != 1 {
		t.Fatalf("delta parts: %v", parts)
	}
	saved, _ := os.ReadFile(parts[0])
	flipLastBytes(t, parts[0])
	_, errs, code := mirrorCmd(t, append(append([]string{"sync"}, sync...), "--progress", "none")...)
	if code != 1 || !strings.Contains(errs, "checksum mismatch: sha256") {
		t.Fatalf("a corrupt delta part: exit %d\n%s", code, errs)
	}
	if got, err := c.pull(); err != nil || got != first {
		t.Fatalf("after the refusal the client gets %s, %v; want the first commit", got, err)
	}
	os.WriteFile(parts[0], saved, 0o644)
	syncJSON(t, sync...)
	if got, err := c.pull("--require-static-deltas"); err != nil || got != second {
		t.Fatalf("client at %s, %v; want %s", got, err, second)
	}
}

// A region fed from the primary's bucket: an s3:// SRC on another (here
// the same) server is read as an upstream repository, checked object by
// object; a corrupt object there stops the run before any ref.
func TestSyncFromBucket(t *testing.T) {
	srv := s3server.Start(t)
	primary := srv.Bucket(t, "primary", "repo")
	srv.Bucket(t, "region", "repo")
	repo, first := newRepo(t, 50, 95)
	syncJSON(t, repo, "s3://primary/repo", "--endpoint", srv.Endpoint)
	sync := []string{"s3://primary/repo", "s3://region/repo", "--src-endpoint", srv.Endpoint, "--endpoint", srv.Endpoint}
	syncJSON(t, sync...)
	pullAndFsck(t, srv.Endpoint+"/region/repo", first)
	had := filepath.Join(t.TempDir(), "had") // what the region holds, as files
	syncJSON(t, repo, had)

	second := commitTree(t, repo, 50, 96, "two")
	syncJSON(t, repo, "s3://primary/repo", "--endpoint", srv.Endpoint)
	victim := newObject(t, repo, had, ".filez")
	rel, _ := filepath.Rel(repo, victim)
	data, _ := os.ReadFile(victim)
	bad := bytes.Clone(data)
	bad[len(bad)-2] ^= 0x40
	if err := primary.Put(t.Context(), store.Upload{Key: rel, Data: bad, Size: int64(len(bad))}); err != nil {
		t.Fatal(err)
	}
	_, errs, code := mirrorCmd(t, append(append([]string{"sync"}, sync...), "--progress", "none")...)
	if code != 1 || !strings.Contains(errs, "s3://primary/repo/"+rel) || !strings.Contains(errs, "checksum mismatch") {
		t.Fatalf("a corrupt object in the source bucket: exit %d\n%s", code, errs)
	}
	pullAndFsck(t, srv.Endpoint+"/region/repo", first)
	primary.Put(t.Context(), store.Upload{Key: rel, Data: data, Size: int64(len(data))})
	syncJSON(t, sync...)
	pullAndFsck(t, srv.Endpoint+"/region/repo", second)

	_, errs, code = mirrorCmd(t, "sync", "s3://region/nothing", "s3://region/repo", "--src-endpoint", srv.Endpoint, "--endpoint", srv.Endpoint, "--progress", "none")
	if code != 1 || !strings.Contains(errs, "s3://region/nothing: no ostree repository there (no config); a release tree is published only as its signed manifests vouch for it: give --keys") {
		t.Errorf("an empty prefix as SRC: exit %d\n%s", code, errs)
	}
}

// A region fed from the primary's release tree: every release the signed
// manifests vouch for comes across, artifacts before manifests, in the
// primary's layout, each artifact copied by the server and checked
// against its signed sha256 there; an image tampered with in the
// primary's bucket stops the run before any manifest is published, naming
// the file, and what the region held stays.
func TestSyncReleasesFromBucket(t *testing.T) {
	srv := s3server.Start(t)
	primary := srv.Bucket(t, "primary", "pub")
	region := srv.Bucket(t, "region", "pub")
	signer, err := trust.LoadSigner("../../testdata/test-signing.key")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeRelease(t, dir, signer, "28.20180501.0", 1)
	writeRelease(t, dir, signer, "28.20180508.0", 8)
	keys := "../../testdata/keys"
	syncJSON(t, dir, "s3://primary/pub", "--endpoint", srv.Endpoint, "--keys", keys)
	sync := []string{"s3://primary/pub", "s3://region/pub", "--src-endpoint", srv.Endpoint, "--endpoint", srv.Endpoint, "--keys", keys}
	rep := syncJSON(t, sync...)
	p, r := storeFiles(primary), storeFiles(region)
	if !maps.Equal(p, r) || len(r) < 10 {
		t.Fatalf("the region holds %d files, the primary %d:\n%v\n%v", len(r), len(p), r, p)
	}
	// On one server, every artifact is copied there, checked by the
	// server's sha256: only the manifests, the images' detached
	// signatures (which have no sha256 in the manifest, only a size the
	// fetch checks) and the manifests' signatures pass through this
	// process.
	var artifacts, artifactBytes int64
	for k, v := range r {
		if !strings.HasSuffix(k, ".json") && !strings.HasSuffix(k, ".sig") {
			artifacts++
			artifactBytes += v
		}
	}
	if int64(rep.Copied) != artifacts || rep.CopiedBytes != artifactBytes {
		t.Errorf("copied server side: %d files, %d bytes; the artifacts: %d files, %d bytes", rep.Copied, rep.CopiedBytes, artifacts, artifactBytes)
	}
	if out, errs, code := mirrorCmd(t, "verify", "s3://region/pub", "--endpoint", srv.Endpoint, "--keys", keys, "--deep"); code != 0 {
		t.Fatalf("verify --deep of the region: exit %d\n%s%s", code, out, errs)
	}

	writeRelease(t, dir, signer, "28.20180515.0", 15)
	syncJSON(t, dir, "s3://primary/pub", "--endpoint", srv.Endpoint, "--keys", keys)
	image := "stable/x86_64/Fedora-AtomicHost-28.20180515.0.x86_64.qcow2-disk"
	good, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(image)))
	bad := bytes.Clone(good)
	bad[len(bad)-1] ^= 0x01
	if err := primary.Put(t.Context(), store.Upload{Key: image, Data: bad, Size: int64(len(bad))}); err != nil {
		t.Fatal(err)
	}
	_, errs, code := mirrorCmd(t, append(append([]string{"sync"}, sync...), "--progress", "none")...)
	if code != 1 || !strings.Contains(errs, "s3://primary/pub/"+image) || !strings.Contains(errs, "checksum mismatch") {
		t.Fatalf("a tampered image upstream: exit %d\n%s", code, errs)
	}
	r = storeFiles(region)
	if _, ok := r["stable/28.20180515.0.json"]; ok {
		t.Error("the manifest of the release whose image was tampered with was published")
	}
	if _, ok := r["stable/28.20180508.0.json"]; !ok {
		t.Error("an earlier release is gone")
	}
	primary.Put(t.Context(), store.Upload{Key: image, Data: good, Size: int64(len(good))})
	syncJSON(t, sync...)
	if _, ok := storeFiles(region)["stable/28.20180515.0.json"]; !ok {
		t.Error("the repaired release did not come across")
	}
}

// publishSite writes what a site publishes of the release tree dir for a
// downstream mirror: its manifests under manifests/ and an index.json
// that lists them, generated at gen.
func publishSite(t *testing.T, dir, site string, gen time.Time) {
	t.Helper()
	os.RemoveAll(site)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".json.sig")) {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.Count(filepath.ToSlash(rel), "/") != 1 || strings.HasPrefix(rel, ".mirror") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		target := filepath.Join(site, "manifests", rel)
		os.MkdirAll(filepath.Dir(target), 0o755)
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	idx, err := siteindex.Make(os.DirFS(site), gen, 72*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site, siteindex.Path), idx.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A downstream mirror of release files served over HTTP: a web server
// lists nothing, so the site's index.json says which manifests there are.
// Every release they vouch for comes across in the upstream's layout; a
// second run fetches nothing; an image tampered with upstream stops the
// run before its manifest is published, and a release whose image the
// upstream lacks is held back whole while the rest is published. A frozen
// site (an expired index), a URL with no index and an ostree repository
// as the tree are refused before anything is written.
func TestSyncReleasesFromHTTP(t *testing.T) {
	signer, err := trust.LoadSigner("../../testdata/test-signing.key")
	if err != nil {
		t.Fatal(err)
	}
	keys := "../../testdata/keys"
	tmp := t.TempDir()
	compose, tree, site := filepath.Join(tmp, "compose"), filepath.Join(tmp, "tree"), filepath.Join(tmp, "site")
	writeRelease(t, compose, signer, "28.20180501.0", 1)
	writeRelease(t, compose, signer, "28.20180508.0", 8)
	syncJSON(t, compose, tree, "--keys", keys)
	publishSite(t, tree, site, time.Now())
	up, siteURL := serveRepo(t, tree), serveDir(t, site)+"/"

	dst := filepath.Join(tmp, "downstream")
	sync := []string{up.URL + "/", dst, "--keys", keys, "--manifests", siteURL}
	syncJSON(t, sync...)
	if got, want := contentFiles(t, dst), contentFiles(t, tree); !maps.Equal(got, want) || len(got) < 10 {
		t.Fatalf("the downstream holds %d files, the upstream tree %d", len(got), len(want))
	}
	if out, errs, code := mirrorCmd(t, "verify", dst, "--keys", keys, "--deep"); code != 0 {
		t.Fatalf("verify --deep of the downstream: exit %d\n%s%s", code, out, errs)
	}
	up.reset()
	if rep := syncJSON(t, sync...); rep.Files != 0 {
		t.Errorf("a second run uploaded %d files", rep.Files)
	}
	if n := up.count(".qcow2-disk") + up.count(".sig"); n != 0 {
		t.Errorf("a second run fetched %d files from the tree", n)
	}

	writeRelease(t, compose, signer, "28.20180515.0", 15)
	syncJSON(t, compose, tree, "--keys", keys)
	publishSite(t, tree, site, time.Now())
	image := filepath.Join(tree, "stable", "x86_64", "Fedora-AtomicHost-28.20180515.0.x86_64.qcow2-disk")
	good, _ := os.ReadFile(image)
	bad := bytes.Clone(good)
	bad[len(bad)-1] ^= 0x01
	os.WriteFile(image, bad, 0o644)
	_, errs, code := mirrorCmd(t, append(append([]string{"sync"}, sync...), "--progress", "none")...)
	if code != 1 || !strings.Contains(errs, up.URL+"/stable/x86_64/Fedora-AtomicHost-28.20180515.0.x86_64.qcow2-disk") || !strings.Contains(errs, "checksum mismatch") {
		t.Fatalf("a tampered image upstream: exit %d\n%s", code, errs)
	}
	d := contentFiles(t, dst)
	if _, ok := d["stable/28.20180515.0.json"]; ok {
		t.Error("the manifest of the release whose image was tampered with was published")
	}
	if _, ok := d["stable/28.20180508.0.json"]; !ok {
		t.Error("an earlier release is gone")
	}

	os.Remove(image)
	_, errs, code = mirrorCmd(t, append(append([]string{"sync"}, sync...), "--progress", "none")...)
	if code != 1 || !strings.Contains(errs, "release stable/28.20180515.0 refused: stable/x86_64/Fedora-AtomicHost-28.20180515.0.x86_64.qcow2-disk: missing upstream") {
		t.Fatalf("an image missing upstream: exit %d\n%s", code, errs)
	}
	if _, ok := contentFiles(t, dst)["stable/28.20180515.0.json"]; ok {
		t.Error("the manifest of the release whose image is missing was published")
	}
	os.WriteFile(image, good, 0o644)
	syncJSON(t, sync...)
	if got, want := contentFiles(t, dst), contentFiles(t, tree); !maps.Equal(got, want) {
		t.Errorf("once the upstream is whole, the downstream holds %d files, the upstream %d", len(got), len(want))
	}

	publishSite(t, tree, site, time.Now().Add(-100*time.Hour))
	_, errs, code = mirrorCmd(t, append(append([]string{"sync"}, sync...), "--progress", "none")...)
	if code != 1 || !strings.Contains(errs, siteURL+": index.json: expired at") || !strings.Contains(errs, "nothing published") {
		t.Errorf("an expired index: exit %d\n%s", code, errs)
	}
	_, errs, code = mirrorCmd(t, "sync", up.URL+"/", dst, "--keys", keys, "--manifests", up.URL+"/", "--progress", "none")
	if code != 1 || !strings.Contains(errs, up.URL+"/index.json: not found: --manifests names the site") {
		t.Errorf("--manifests at a URL with no index: exit %d\n%s", code, errs)
	}
	repo, _ := newRepo(t, 5, 3)
	_, errs, code = mirrorCmd(t, "sync", serveRepo(t, repo).URL+"/", dst, "--keys", keys, "--manifests", siteURL, "--progress", "none")
	if code != 1 || !strings.Contains(errs, "an ostree repository, not a release tree") {
		t.Errorf("an ostree repository with --manifests URL: exit %d\n%s", code, errs)
	}
	_, errs, code = mirrorCmd(t, "sync", tree, dst, "--keys", keys, "--manifests", siteURL, "--progress", "none")
	if code != 2 || !strings.Contains(errs, "is not one (a directory or a bucket lists its own") {
		t.Errorf("--manifests URL with a local SRC: exit %d\n%s", code, errs)
	}
	if got, want := contentFiles(t, dst), contentFiles(t, tree); !maps.Equal(got, want) {
		t.Error("a refused run changed the downstream")
	}
}
