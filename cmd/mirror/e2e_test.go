package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
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

const ref = "fedora/28/x86_64/atomic-host"

func ostreeCmd(t *testing.T, args ...string) string {
	t.Helper()
	return fixture.Command(t, "ostree", args...)
}

// client is a real ostree client of a mirror.
type client struct {
	t    *testing.T
	repo string
}

func newClient(t *testing.T, url string) client {
	c := client{t, filepath.Join(t.TempDir(), "client")}
	ostreeCmd(t, "--repo="+c.repo, "init", "--mode=archive")
	ostreeCmd(t, "--repo="+c.repo, "remote", "add", "--no-gpg-verify", "origin", url)
	return c
}

// pull pulls the ref (with extra pull flags, such as
// --require-static-deltas) and fscks, and returns the commit or the
// failure.
func (c client) pull(flags ...string) (string, error) {
	pull := append(append([]string{"pull"}, flags...), "origin", ref)
	for _, args := range [][]string{pull, {"fsck"}} {
		if out, err := exec.Command("ostree", append([]string{"--repo=" + c.repo}, args...)...).CombinedOutput(); err != nil {
			return "", &pullError{args, string(out)}
		}
	}
	return ostreeCmd(c.t, "--repo="+c.repo, "rev-parse", "origin:"+ref), nil
}

type pullError struct {
	args []string
	out  string
}

func (e *pullError) Error() string { return "ostree " + e.args[0] + ": " + e.out }

// newRepo makes an archive repository with one commit of n random files
// (seeded), and returns it and the commit.
func newRepo(t *testing.T, n int, seed uint64) (repo, commit string) {
	t.Helper()
	repo = filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	return repo, commitTree(t, repo, n, seed, fmt.Sprint("commit ", seed))
}

// commitTree commits a tree of n random files (seeded) to repo and updates
// the summary, as a compose does.
func commitTree(t *testing.T, repo string, n int, seed uint64, subject string) string {
	t.Helper()
	return commitTreeSigned(t, repo, n, seed, subject, nil)
}

// commitTreeSigned is commitTree with extra arguments to ostree commit and
// ostree summary (--gpg-sign, --gpg-homedir).
func commitTreeSigned(t *testing.T, repo string, n int, seed uint64, subject string, sign []string) string {
	t.Helper()
	tree := t.TempDir()
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range n {
		p := filepath.Join(tree, "usr", fmt.Sprintf("d%d", i%10), fmt.Sprintf("f%d", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		data := make([]byte, 200+r.IntN(20000))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	commit := ostreeCmd(t, append([]string{"--repo=" + repo, "commit", "-b", ref, "--tree=dir=" + tree, "-s", subject}, sign...)...)
	ostreeCmd(t, append([]string{"--repo=" + repo, "summary", "-u"}, sign...)...)
	return commit
}

func mirrorCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

// The test that matters: after sync, a real ostree pull from the bucket
// over HTTP succeeds and fsck is clean; after a second commit and sync,
// the client moves to the new commit. On both S3 servers.
func TestSyncThenOstreePull(t *testing.T) {
	for _, kind := range []string{s3server.MinIO, s3server.SeaweedFS} {
		t.Run(kind, func(t *testing.T) { syncThenOstreePull(t, s3server.StartKind(t, kind)) })
	}
}

func syncThenOstreePull(t *testing.T, srv *s3server.Server) {
	srv.Bucket(t, "atomic", "repo")
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	first := commitTree(t, repo, 300, 1, "first")
	dest := "s3://atomic/repo"

	out, errs, code := mirrorCmd(t, "sync", repo, dest, "--endpoint", srv.Endpoint, "--progress", "none", "--json")
	if code != 0 {
		t.Fatalf("sync exited %d: %s", code, errs)
	}
	var rep struct {
		Files    int  `json:"uploaded_files"`
		Complete bool `json:"complete"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || !rep.Complete || rep.Files < 300 {
		t.Fatalf("report %s: %v", out, err)
	}

	client := filepath.Join(t.TempDir(), "client")
	ostreeCmd(t, "--repo="+client, "init", "--mode=archive")
	ostreeCmd(t, "--repo="+client, "remote", "add", "--no-gpg-verify", "origin", srv.Endpoint+"/atomic/repo")
	ostreeCmd(t, "--repo="+client, "pull", "origin", ref)
	ostreeCmd(t, "--repo="+client, "fsck")
	if got := ostreeCmd(t, "--repo="+client, "rev-parse", "origin:"+ref); got != first {
		t.Fatalf("client at %s, want %s", got, first)
	}

	// Nothing changed: nothing is sent.
	out, _, code = mirrorCmd(t, "sync", repo, dest, "--endpoint", srv.Endpoint, "--progress", "none", "--json")
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Files != 0 {
		t.Fatalf("no-op sync: exit %d, report %s", code, out)
	}

	second := commitTree(t, repo, 300, 2, "second")
	out, errs, code = mirrorCmd(t, "sync", repo, dest, "--endpoint", srv.Endpoint, "--progress", "none", "--delete", "--json")
	if code != 0 {
		t.Fatalf("second sync exited %d: %s", code, errs)
	}
	// The new commit's objects, its commit, the ref and the summary go
	// up; the first commit's objects stay, as the repository keeps them.
	var rep2 struct {
		Files    int  `json:"uploaded_files"`
		Deleted  int  `json:"deleted"`
		Complete bool `json:"complete"`
	}
	if err := json.Unmarshal([]byte(out), &rep2); err != nil || !rep2.Complete || rep2.Files < 300 || rep2.Deleted != 0 {
		t.Fatalf("second sync's report %s: %v; want over 300 files uploaded, none deleted", out, err)
	}
	ostreeCmd(t, "--repo="+client, "pull", "origin", ref)
	ostreeCmd(t, "--repo="+client, "fsck")
	if got := ostreeCmd(t, "--repo="+client, "rev-parse", "origin:"+ref); got != second {
		t.Fatalf("client at %s after the second sync, want %s", got, second)
	}

	out, errs, code = mirrorCmd(t, "verify", dest, "--endpoint", srv.Endpoint, "--against", repo, "--deep")
	if code != 0 || !strings.Contains(out, "no problems") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errs)
	}
}

// verify finds a ref whose commit is missing and a metadata object whose
// content does not match its name.
func TestVerifyFindsProblems(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	commit := commitTree(t, repo, 20, 3, "one")
	dst := filepath.Join(t.TempDir(), "mirror")
	if _, errs, code := mirrorCmd(t, "sync", repo, dst, "--progress", "none"); code != 0 {
		t.Fatal(errs)
	}
	os.Remove(filepath.Join(dst, "objects", commit[:2], commit[2:]+".commit"))
	var dirtree, filez string
	filepath.Walk(filepath.Join(dst, "objects"), func(p string, fi os.FileInfo, err error) error {
		if strings.HasSuffix(p, ".dirtree") && dirtree == "" {
			dirtree = p
		}
		if strings.HasSuffix(p, ".filez") && filez == "" && fi.Size() > 64 {
			filez = p
		}
		return nil
	})
	os.WriteFile(dirtree, []byte("garbage"), 0o644)
	// A file object of the right size whose compressed content lost a
	// bit: only its checksum, recomputed as ostree does, tells.
	data, err := os.ReadFile(filez)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-3] ^= 0x10
	os.WriteFile(filez, data, 0o644)
	filezKey, _ := filepath.Rel(dst, filez)
	out, _, code := mirrorCmd(t, "verify", dst, "--deep", "--against", repo)
	if code == 0 {
		t.Fatal("verify passed a broken mirror")
	}
	for _, want := range []string{"objects/" + commit[:2] + "/" + commit[2:] + ".commit: missing (needed by ref " + ref + ")", ".dirtree: checksum mismatch: its content has checksum", ".commit: in the source, missing", filezKey + ": "} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
}

// Release files: with --keys, a file that does not match its signed
// manifest refuses that release whole; the rest is published, manifests
// after the artifacts they name.
func TestSyncReleaseFiles(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "images", "pub")
	dir := t.TempDir()
	signer, err := trust.LoadSigner("../../testdata/test-signing.key")
	if err != nil {
		t.Fatal(err)
	}
	writeRelease(t, dir, signer, "28.20180501.0", 1)
	writeRelease(t, dir, signer, "28.20180508.0", 8)
	// Damage one image of the second release.
	bad := filepath.Join(dir, "stable", "x86_64", "Fedora-AtomicHost-28.20180508.0.x86_64.qcow2-disk")
	os.WriteFile(bad, []byte("image x86_64/Fedora-AtomicHost-28.20180508.0.x86_64.qcow2-diXX"), 0o644)

	dest := "s3://images/pub"
	out, errs, code := mirrorCmd(t, "sync", dir, dest, "--endpoint", srv.Endpoint, "--keys", "../../testdata/keys", "--progress", "none")
	if code == 0 {
		t.Fatalf("sync of a damaged release succeeded:\n%s", out)
	}
	if !strings.Contains(errs, "release stable/28.20180508.0 refused") || !strings.Contains(errs, "qcow2-disk: sha256") {
		t.Errorf("stderr does not say which release and file:\n%s", errs)
	}
	keys := map[string]bool{}
	if err := bucket.List(context.Background(), nil, func(o store.Object) error { keys[o.Key] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if !keys["stable/28.20180501.0.json"] || !keys["stable/28.20180501.0.json.sig"] {
		t.Errorf("the good release was not published: %v", keys)
	}
	for k := range keys {
		if strings.Contains(k, "28.20180508.0") {
			t.Errorf("%s of the refused release was uploaded", k)
		}
	}
	out, errs, code = mirrorCmd(t, "verify", dest, "--endpoint", srv.Endpoint, "--keys", "../../testdata/keys", "--deep")
	if code != 0 {
		t.Errorf("verify of the published releases: exit %d\n%s%s", code, out, errs)
	}
}

// writeRelease writes a signed stable release into a release tree (see
// synth.WriteRelease), made on day of May 2018.
func writeRelease(t *testing.T, dir string, signer *trust.Signer, rel string, day int) {
	t.Helper()
	if err := synth.WriteRelease(dir, signer, "stable", rel, time.Date(2018, 5, day, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
}
