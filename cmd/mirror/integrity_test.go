package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/store/s3"
	"github.com/projectatomic/atomic-site/internal/testkit/faultproxy"
	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
)

// slowProxy holds every request to the server delay, so that a sync lasts
// long enough for other runs to meet it.
func slowProxy(t *testing.T, srv *s3server.Server, delay time.Duration) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(srv.Endpoint, 0, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	p.SetDelay(delay)
	t.Cleanup(p.Close)
	return p
}

// result is how a mirror process ended.
type result struct {
	code   int
	stderr string
}

// startProcess starts a mirror process, its stderr kept.
func startProcess(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	return startProcessOut(t, nil, args...)
}

// startProcessOut is startProcess with its stdout kept in out.
func startProcessOut(t *testing.T, out *bytes.Buffer, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	var errb bytes.Buffer
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asMain+"=1")
	cmd.Stderr = &errb
	if out != nil {
		cmd.Stdout = out
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &errb
}

// finish waits for a process started by startProcess.
func finish(cmd *exec.Cmd, errb *bytes.Buffer) result {
	cmd.Wait()
	return result{cmd.ProcessState.ExitCode(), errb.String()}
}

func pullAndFsck(t *testing.T, url, want string) {
	t.Helper()
	c := newClient(t, url)
	got, err := c.pull()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("client at %s, want %s", got, want)
	}
}

// Twenty runs started together into one destination, slowed so that they
// overlap: exactly one publishes; the others refuse at once, naming it,
// with exit code 3.
func TestOneWriterPerDestination(t *testing.T) {
	srv := s3server.Start(t)
	srv.Bucket(t, "atomic", "repo")
	proxy := slowProxy(t, srv, 60*time.Millisecond)
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	commit := commitTree(t, repo, 300, 11, "one")

	const runs = 20
	results := make([]result, runs)
	var wg sync.WaitGroup
	for i := range runs {
		cmd, errb := startProcess(t, "sync", repo, "s3://atomic/repo", "--endpoint", proxy.URL, "--progress", "none")
		wg.Go(func() { results[i] = finish(cmd, errb) })
	}
	wg.Wait()
	published := 0
	for i, r := range results {
		switch {
		case r.code == 0:
			published++
		case r.code == exitLocked && strings.Contains(r.stderr, "is being synced by another run (host ") && strings.Count(strings.TrimSpace(r.stderr), "\n") == 0:
		default:
			t.Errorf("run %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	if published != 1 {
		t.Errorf("%d runs published, want exactly 1", published)
	}
	pullAndFsck(t, srv.Endpoint+"/atomic/repo", commit)
}

// The case that broke a mirror before the lease: a slow sync of one
// repository, and a --delete sync of another into the same destination a
// second later. The second is refused; the first publishes whole.
func TestDeleteRunRefusedWhileAnotherSyncs(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "atomic", "repo")
	proxy := slowProxy(t, srv, 40*time.Millisecond)
	repoA := filepath.Join(t.TempDir(), "a")
	repoB := filepath.Join(t.TempDir(), "b")
	for _, r := range []string{repoA, repoB} {
		ostreeCmd(t, "--repo="+r, "init", "--mode=archive")
	}
	commitA := commitTree(t, repoA, 400, 21, "A")
	commitTree(t, repoB, 50, 22, "B")

	a, errA := startProcess(t, "sync", repoA, "s3://atomic/repo", "--endpoint", proxy.URL, "--progress", "none")
	waitForLease(t, bucket)
	_, errs, code := mirrorCmd(t, "sync", repoB, "s3://atomic/repo", "--endpoint", srv.Endpoint, "--progress", "none",
		"--delete", "--max-delete", "100%", "--delete-grace", "0s")
	if code != exitLocked || !strings.Contains(errs, "is being synced by another run") {
		t.Errorf("second run: exit %d, %s; want refused with exit %d", code, errs, exitLocked)
	}
	if r := finish(a, errA); r.code != 0 {
		t.Fatalf("first run: exit %d: %s", r.code, r.stderr)
	}
	pullAndFsck(t, srv.Endpoint+"/atomic/repo", commitA)
	if out, errs, code := mirrorCmd(t, "verify", "s3://atomic/repo", "--endpoint", srv.Endpoint, "--against", repoA); code != 0 {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errs)
	}
}

// waitForLease returns once a run holds the bucket's lease: what a second
// run, or a hand that removes it, waits for.
func waitForLease(t *testing.T, bucket *s3.Store) {
	t.Helper()
	waitFor(t, "a run to take the lease", func() bool {
		_, _, err := bucket.ReadLease(context.Background())
		return err == nil
	})
}

// waitFor polls cond until it holds, for at most 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A lease of a live run elsewhere refuses the run; unlock removes it after
// asking (--yes here); an expired lease is taken over by itself.
func TestLeaseTakeoverAndUnlock(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "atomic", "repo")
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	commitTree(t, repo, 20, 31, "one")
	ctx := context.Background()
	sync := []string{"sync", repo, "s3://atomic/repo", "--endpoint", srv.Endpoint, "--progress", "none"}

	other := store.Holder{Host: "mirror-b.example.org", PID: 4242, Tool: "mirror v1", Started: time.Now(), Expires: time.Now().Add(time.Hour)}
	if _, err := bucket.CreateLease(ctx, other); err != nil {
		t.Fatal(err)
	}
	_, errs, code := mirrorCmd(t, sync...)
	if code != exitLocked || !strings.Contains(errs, "host mirror-b.example.org, pid 4242") || !strings.Contains(errs, "mirror unlock s3://atomic/repo") {
		t.Fatalf("sync against a live lease: exit %d: %s", code, errs)
	}
	if _, _, code := mirrorCmd(t, "unlock", "s3://atomic/repo", "--endpoint", srv.Endpoint); code != 2 {
		t.Errorf("unlock without a terminal or --yes: exit %d, want 2", code)
	}
	out, errs, code := mirrorCmd(t, "unlock", "s3://atomic/repo", "--endpoint", srv.Endpoint, "--yes")
	if code != 0 || !strings.Contains(out, "mirror-b.example.org") || !strings.Contains(out, "lease removed") {
		t.Fatalf("unlock: exit %d: %s%s", code, out, errs)
	}
	if _, errs, code := mirrorCmd(t, sync...); code != 0 {
		t.Fatalf("sync after unlock: exit %d: %s", code, errs)
	}
	if _, _, err := bucket.ReadLease(ctx); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lease after a finished run: %v, want none", err)
	}

	other.Expires = time.Now().Add(-time.Minute)
	if _, err := bucket.CreateLease(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := mirrorCmd(t, sync...); code != 0 {
		t.Fatalf("sync against an expired lease: exit %d: %s", code, errs)
	}
}

// A lease lost during a run (removed by hand) stops the run before it
// publishes a ref.
func TestLeaseLostStopsBeforeRefs(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "atomic", "repo")
	proxy := slowProxy(t, srv, 40*time.Millisecond)
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	commitTree(t, repo, 300, 41, "one")
	ctx := context.Background()

	var outb bytes.Buffer
	cmd, errb := startProcessOut(t, &outb, "sync", repo, "s3://atomic/repo", "--endpoint", proxy.URL, "--progress", "none", "--json")
	waitForLease(t, bucket)
	// Let some objects go up first: the report must count them.
	waitFor(t, "objects to go up", func() bool { return len(storeFiles(bucket)) >= 50 })
	if err := bucket.DeleteLease(ctx); err != nil {
		t.Fatal(err)
	}
	r := finish(cmd, errb)
	if r.code == 0 || !strings.Contains(r.stderr, "lease lost") {
		t.Fatalf("run whose lease was removed: exit %d: %s", r.code, r.stderr)
	}
	bucket.List(ctx, nil, func(o store.Object) error {
		if strings.HasPrefix(o.Key, "refs/") || o.Key == "summary" {
			t.Errorf("%s published after the lease was lost", o.Key)
		}
		return nil
	})
	var rep struct {
		Files int `json:"uploaded_files"`
	}
	if err := json.Unmarshal(outb.Bytes(), &rep); err != nil {
		t.Fatalf("report %q: %v", outb.String(), err)
	}
	// Uploads cut off by the lost lease may have landed unseen: the report
	// may say less than the bucket holds, never more, and not nothing.
	if n := len(storeFiles(bucket)); rep.Files < 50 || rep.Files > n {
		t.Errorf("the report says %d files published; the bucket holds %d", rep.Files, n)
	}
}

// storeFiles lists a store's keys and their sizes, the mirror's own state
// aside.
func storeFiles(st interface {
	List(context.Context, func(string) bool, func(store.Object) error) error
}) map[string]int64 {
	m := map[string]int64{}
	st.List(context.Background(), nil, func(o store.Object) error {
		if !strings.HasPrefix(o.Key, store.StateDir) {
			m[o.Key] = o.Size
		}
		return nil
	})
	return m
}

// verify walks every ref whole: a destination missing one file object, one
// dirtree or the commit, or whose ref and summary disagree, fails, naming
// the object and the ref.
func TestVerifyWalksCommits(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	first := commitTree(t, repo, 40, 51, "one")
	second := commitTree(t, repo, 40, 52, "two")
	synced := filepath.Join(t.TempDir(), "mirror")
	if _, errs, code := mirrorCmd(t, "sync", repo, synced, "--progress", "none"); code != 0 {
		t.Fatal(errs)
	}
	if out, errs, code := mirrorCmd(t, "verify", synced); code != 0 {
		t.Fatalf("verify of a whole mirror: exit %d: %s%s", code, out, errs)
	}
	anyOf := func(ext string) string {
		var key string
		filepath.WalkDir(filepath.Join(synced, "objects"), func(p string, d os.DirEntry, err error) error {
			if key == "" && strings.HasSuffix(p, ext) {
				rel, _ := filepath.Rel(synced, p)
				key = filepath.ToSlash(rel)
			}
			return nil
		})
		return key
	}
	// A file object of the current commit: ostree ls names them.
	var file string
	for _, line := range strings.Split(ostreeCmd(t, "--repo="+repo, "ls", "-R", "-C", second, "/usr"), "\n") {
		if f := strings.Fields(line); len(f) >= 5 && strings.HasPrefix(f[0], "-") {
			sum := f[4]
			file = "objects/" + sum[:2] + "/" + sum[2:] + ".filez"
			break
		}
	}
	if file == "" {
		t.Fatal("no file in the commit")
	}
	for _, tt := range []struct {
		name  string
		spoil func(dir string) string // returns the line verify must print
	}{
		{"file object", func(dir string) string {
			os.Remove(filepath.Join(dir, file))
			return file + ": missing (needed by ref " + ref + ")"
		}},
		{"dirtree", func(dir string) string {
			key := anyOf(".dirtree")
			os.Remove(filepath.Join(dir, key))
			return key + ": missing (needed by ref " + ref + ")"
		}},
		{"commit", func(dir string) string {
			key := "objects/" + second[:2] + "/" + second[2:] + ".commit"
			os.Remove(filepath.Join(dir, key))
			return key + ": missing (needed by ref " + ref + ")"
		}},
		{"ref and summary disagree", func(dir string) string {
			os.WriteFile(filepath.Join(dir, "refs/heads", ref), []byte(first+"\n"), 0o644)
			return "summary: names commit " + second + " for ref " + ref + ", whose file names " + first
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "mirror")
			if err := os.CopyFS(dir, os.DirFS(synced)); err != nil {
				t.Fatal(err)
			}
			want := tt.spoil(dir)
			out, _, code := mirrorCmd(t, "verify", dir)
			if code == 0 || !strings.Contains(out, want) {
				t.Errorf("verify: exit %d, output lacks %q:\n%s", code, want, out)
			}
		})
	}
}

// Links that lead out of the source fail the run before anything is
// published, naming the link; nothing of what they point at reaches the
// store.
func TestSymlinkOutOfSourceRefused(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "atomic", "repo")
	secret := filepath.Join(t.TempDir(), "hostname")
	os.WriteFile(secret, []byte("secret-host-name\n"), 0o644)
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	commitTree(t, repo, 10, 61, "one")
	link := filepath.Join(repo, "objects", "zz", "leak.filez")
	os.MkdirAll(filepath.Dir(link), 0o755)
	os.Symlink(secret, link)
	_, errs, code := mirrorCmd(t, "sync", repo, "s3://atomic/repo", "--endpoint", srv.Endpoint, "--progress", "none")
	if code == 0 || !strings.Contains(errs, "objects/zz/leak.filez -> "+secret) || !strings.Contains(errs, "leads outside the source") {
		t.Fatalf("sync with a link out: exit %d: %s", code, errs)
	}
	n := 0
	bucket.List(context.Background(), nil, func(o store.Object) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d objects published from a source with a link out", n)
	}
}

// With no credentials anywhere, the run says so in one line before it
// tries anonymous access; --json carries the error of the failed run.
func TestNoCredentialsSaidAndJSONError(t *testing.T) {
	srv := s3server.Start(t)
	srv.Bucket(t, "atomic", "repo")
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "image.raw.xz"), []byte("image"), 0o644)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", t.TempDir())
	out, errs, code := mirrorCmd(t, "sync", src, "s3://atomic/repo", "--endpoint", srv.Endpoint, "--progress", "none", "--json")
	if code == 0 {
		t.Fatal("an anonymous sync into a private bucket succeeded")
	}
	if !strings.Contains(errs, "no credentials found") {
		t.Errorf("stderr does not say no credentials were found:\n%s", errs)
	}
	var rep struct {
		Complete bool   `json:"complete"`
		Error    string `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Complete || !strings.Contains(rep.Error, "Access Denied") {
		t.Errorf("--json = %s (%v), want complete false and the error", out, err)
	}
}
