package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/lockfile"
	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
)

// An ostree repository with no refs is never a source to delete by: a
// wiped or half-made compose repository would otherwise empty the mirror
// under --max-delete 100%. The refusal names what to check and offers no
// number to copy.
func TestEmptyRepositoryNeverDeletes(t *testing.T) {
	repo, _ := newRepo(t, 20, 71)
	dst := filepath.Join(t.TempDir(), "mirror")
	syncJSON(t, repo, dst)
	before := contentFiles(t, dst)

	empty := filepath.Join(t.TempDir(), "empty")
	ostreeCmd(t, "--repo="+empty, "init", "--mode=archive")
	for _, max := range []string{"10%", "100%"} {
		_, errs, code := mirrorCmd(t, "sync", empty, dst, "--delete", "--delete-grace", "0s", "--max-delete", max, "--progress", "none")
		if code != 1 || !strings.Contains(errs, "an ostree repository with no refs") {
			t.Errorf("--max-delete %s: exit %d\n%s", max, code, errs)
		}
		if regexp.MustCompile(`--max-delete \d`).MatchString(errs) {
			t.Errorf("the refusal suggests a --max-delete value: %s", errs)
		}
	}
	if after := contentFiles(t, dst); len(after) != len(before) {
		t.Errorf("the mirror went from %d files to %d", len(before), len(after))
	}
}

// Only what clients read is published: the repository's own caches,
// temporary files, state and locks stay on the compose host, and --delete
// removes them from a mirror that has them from an older version.
func TestOnlyWhatClientsReadIsPublished(t *testing.T) {
	repo, _ := newRepo(t, 20, 72)
	dst := filepath.Join(t.TempDir(), "mirror")
	junk := []string{"uncompressed-objects-cache/ab/cdef.file", "tmp/cache/x", "state/x.commitpartial", "README", "repo-finder/y", "summary.lock"}
	for _, j := range junk {
		p := filepath.Join(repo, j)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("local state"), 0o644); err != nil {
			t.Fatal(err)
		}
		// As an older mirror published it.
		os.MkdirAll(filepath.Dir(filepath.Join(dst, j)), 0o755)
		os.WriteFile(filepath.Join(dst, j), []byte("local state"), 0o644)
	}
	syncJSON(t, repo, dst, "--delete", "--delete-grace", "0s", "--max-delete", "100%")
	got := contentFiles(t, dst)
	for _, j := range junk {
		if _, ok := got[j]; ok {
			t.Errorf("%s is at the destination", j)
		}
	}
	for _, want := range []string{"config", "summary", "refs/heads/" + ref} {
		if _, ok := got[want]; !ok {
			t.Errorf("%s is not at the destination", want)
		}
	}
}

// A directory's lock is an flock: the refusal names the process holding
// it and never suggests mirror unlock, which cannot release it; unlock on
// a held directory says so.
func TestDirectoryLockMessages(t *testing.T) {
	repo, _ := newRepo(t, 5, 73)
	dst := filepath.Join(t.TempDir(), "mirror")
	syncJSON(t, repo, dst)
	d, err := openDest(t.Context(), dst, storeOptions{jobs: 1}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, lease, err := mirror.Lock(t.Context(), d, dst, holder(), mirror.LeaseOptions{Alive: lockfile.Alive})
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release(t.Context())
	pid := fmt.Sprintf("kill %d", os.Getpid())
	_, errs, code := mirrorCmd(t, "sync", repo, dst, "--progress", "none")
	if code != exitLocked || !strings.Contains(errs, pid) || strings.Contains(errs, "unlock") {
		t.Errorf("sync into a held directory: exit %d\n%s", code, errs)
	}
	_, errs, code = mirrorCmd(t, "unlock", dst, "--yes")
	if code != exitLocked || !strings.Contains(errs, "unlock cannot release") || !strings.Contains(errs, pid) {
		t.Errorf("unlock of a held directory: exit %d\n%s", code, errs)
	}
}

// A ref that is a link to some other file of the source is refused,
// naming the ref, and the file's content is never pasted into the error.
func TestRefLinkedToTextFile(t *testing.T) {
	repo, _ := newRepo(t, 5, 74)
	secret := "internal notes: do not publish\n" + strings.Repeat("x", 300)
	os.WriteFile(filepath.Join(repo, "notes.txt"), []byte(secret), 0o644)
	if err := os.Symlink("../../notes.txt", filepath.Join(repo, "refs", "heads", "notes")); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "mirror")
	_, errs, code := mirrorCmd(t, "sync", repo, dst, "--progress", "none")
	if code != 1 || !strings.Contains(errs, "refs/heads/notes: not a ref") || strings.Contains(errs, "internal notes") {
		t.Errorf("exit %d\n%s", code, errs)
	}
	if _, err := os.Stat(dst); err == nil {
		t.Errorf("%s was written", dst)
	}
}

// An endpoint nothing answers at: each retry is a line at info level with
// its attempt and reason, and the run ends in seconds saying the endpoint
// cannot be reached.
func TestUnreachableEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "y")
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	start := time.Now()
	_, errs, code := mirrorCmd(t, "sync", repo, "s3://atomic/repo", "--endpoint", "http://"+addr, "--log-level", "info", "--progress", "none")
	took := time.Since(start)
	if code != 1 || !strings.Contains(errs, "mirror: s3://atomic/repo: take lease .mirror/lock: cannot reach the endpoint") {
		t.Errorf("exit %d\n%s", code, errs)
	}
	for attempt := 1; attempt <= 3; attempt++ {
		if !strings.Contains(errs, fmt.Sprintf("msg=retrying op=lease key=.mirror/lock attempt=%d err=\"cannot reach the endpoint", attempt)) {
			t.Errorf("no line for retry %d:\n%s", attempt, errs)
		}
	}
	if took > 10*time.Second {
		t.Errorf("took %v to give up", took)
	}
}

// A same-size corruption of a file object at the destination: a listing
// cannot see it and a plain sync says "already there"; verify --deep
// names it, sync --repair publishes it again (and counts it), and the
// client pulls. In a directory and in MinIO.
func TestRepair(t *testing.T) {
	repo, commit := newRepo(t, 30, 75)
	var victim string // a file object of the repository
	filepath.WalkDir(filepath.Join(repo, "objects"), func(p string, d fs.DirEntry, err error) error {
		if fi, _ := d.Info(); err == nil && victim == "" && strings.HasSuffix(p, ".filez") && fi.Size() > 1000 {
			victim, _ = filepath.Rel(repo, p)
		}
		return nil
	})
	good, _ := os.ReadFile(filepath.Join(repo, victim))
	bad := bytes.Clone(good)
	bad[len(bad)-5] ^= 0x20

	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "atomic", "repo")
	for _, tt := range []struct {
		name, dest string
		extra      []string
		spoil      func()
		url        string
	}{
		{"directory", filepath.Join(t.TempDir(), "mirror"), nil, nil, ""},
		{"MinIO", "s3://atomic/repo", []string{"--endpoint", srv.Endpoint}, func() {
			if err := bucket.Put(t.Context(), store.Upload{Key: victim, Data: bad, Size: int64(len(bad))}); err != nil {
				t.Fatal(err)
			}
		}, srv.Endpoint + "/atomic/repo"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			syncJSON(t, append([]string{repo, tt.dest}, tt.extra...)...)
			if tt.spoil == nil {
				os.WriteFile(filepath.Join(tt.dest, victim), bad, 0o644)
				tt.url = serveDir(t, tt.dest)
			} else {
				tt.spoil()
			}
			out, _, code := mirrorCmd(t, append([]string{"verify", tt.dest, "--deep"}, tt.extra...)...)
			if code == 0 || !strings.Contains(out, victim+": checksum mismatch") {
				t.Fatalf("verify --deep: exit %d\n%s", code, out)
			}
			if rep := syncJSON(t, append([]string{repo, tt.dest}, tt.extra...)...); rep.Files != 0 {
				t.Errorf("a plain sync uploaded %d files", rep.Files)
			}
			out, errs, code := mirrorCmd(t, append([]string{"sync", repo, tt.dest, "--repair", "--json", "--progress", "none"}, tt.extra...)...)
			var rep struct {
				Files    int `json:"uploaded_files"`
				Repaired int `json:"repaired"`
			}
			if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || rep.Repaired != 1 || rep.Files != 1 {
				t.Fatalf("sync --repair: exit %d, %+v\n%s%s", code, rep, out, errs)
			}
			if out, _, code := mirrorCmd(t, append([]string{"verify", tt.dest, "--deep"}, tt.extra...)...); code != 0 {
				t.Fatalf("verify --deep after the repair: exit %d\n%s", code, out)
			}
			pullAndFsck(t, tt.url, commit)
		})
	}
}
