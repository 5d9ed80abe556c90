package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
)

// bigImage writes a 1 GiB image of seeded bytes into a new release
// directory and returns the directory and the image's sha256.
func bigImage(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "fedora-atomic-28.raw.xz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 1<<20)
	for range 1024 {
		for i := 0; i < len(buf); i += 8 {
			v := r.Uint64()
			for j := range 8 {
				buf[i+j] = byte(v >> (8 * j))
			}
		}
		f.Write(buf)
		h.Write(buf)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, hex.EncodeToString(h.Sum(nil))
}

// sha256Of hashes what r reads.
func sha256Of(r io.ReadCloser, err error) (string, error) {
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// killDuring kills syncs of args at seeded moments within [from,
// from+span), and returns how many were still running when killed, and the
// most leftovers any kill left (each run removes the last one's).
func killDuring(t *testing.T, seed uint64, kills int, from, span time.Duration, leftovers func() int, args ...string) (mid, most int) {
	rng := rand.New(rand.NewPCG(seed, seed))
	for range kills {
		if killAfter(mirrorProcess(t, args...), from+time.Duration(rng.Float64()*float64(span))) {
			mid++
		}
		most = max(most, leftovers())
	}
	return mid, most
}

type cleanedReport struct {
	Complete  bool  `json:"complete"`
	Uploads   int   `json:"incomplete_uploads_aborted"`
	TempFiles int   `json:"temp_files_removed"`
	Bytes     int64 `json:"leftover_bytes"`
}

// SIGKILLs during a 1 GiB multipart upload leave incomplete uploads; the
// next run aborts them, and the object is whole.
func TestKilledMultipartUploadLeavesNothing(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "atomic", "images")
	dir, sum := bigImage(t)
	sync := []string{"sync", dir, "s3://atomic/images", "--endpoint", srv.Endpoint, "--progress", "none", "--json"}
	ctx := context.Background()
	image := []store.Object{{Key: "fedora-atomic-28.raw.xz", Size: 1 << 30}}
	uploads := func() int {
		l, err := bucket.Leftovers(ctx, image)
		if err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	mid, most := killDuring(t, 3, 3, 300*time.Millisecond, 2*time.Second, uploads, sync...)
	left, err := bucket.Leftovers(ctx, image)
	if err != nil {
		t.Fatal(err)
	}
	var leftBytes int64
	for _, l := range left {
		leftBytes += l.Size
	}
	if len(left) > 0 {
		out, _, code := mirrorCmd(t, "verify", "s3://atomic/images", "--endpoint", srv.Endpoint, "--against", dir)
		if code == 0 || !strings.Contains(out, "fedora-atomic-28.raw.xz: incomplete upload") {
			t.Errorf("verify with an incomplete upload left: exit %d:\n%s", code, out)
		}
	}
	out, errs, code := mirrorCmd(t, sync...)
	var rep cleanedReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || !rep.Complete {
		t.Fatalf("rerun: exit %d: %s%s", code, out, errs)
	}
	if rep.Uploads != len(left) {
		t.Errorf("rerun aborted %d uploads, %d were left", rep.Uploads, len(left))
	}
	if got, err := sha256Of(bucket.Open(ctx, "fedora-atomic-28.raw.xz")); got != sum {
		t.Errorf("object sha256 %s (%v), want %s", got, err, sum)
	}
	if after, err := bucket.Leftovers(ctx, image); err != nil || len(after) != 0 {
		t.Errorf("after the rerun: %d incomplete uploads (%v)", len(after), err)
	}
	t.Logf("figure: 1 GiB multipart upload: %d kills (%d mid-run) left %d incomplete uploads holding %d MiB before the rerun; the rerun aborted them all",
		3, mid, len(left), leftBytes>>20)
	if most == 0 {
		t.Error("no kill left an incomplete upload: the test no longer exercises the cleanup")
	}
}

// SIGKILLs during a 1 GiB copy into a directory leave temporary files;
// verify reports them, the next run removes them, and the file is whole.
func TestKilledLocalCopyLeavesNothing(t *testing.T) {
	dir, sum := bigImage(t)
	dst := filepath.Join(t.TempDir(), "mirror")
	sync := []string{"sync", dir, dst, "--progress", "none", "--json"}
	tempFiles := func() map[string]bool {
		names := map[string]bool{}
		filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(d.Name(), ".mirror-tmp-") {
				names[p] = true
			}
			return nil
		})
		return names
	}
	countTemps := func() int { return len(tempFiles()) }
	// newTemp reports whether a temporary file not in old has appeared.
	newTemp := func(old map[string]bool) bool {
		for p := range tempFiles() {
			if !old[p] {
				return true
			}
		}
		return false
	}
	// A copy from the page cache takes a fraction of a second: each kill
	// waits for the copy to begin, then comes at a seeded moment.
	rng := rand.New(rand.NewPCG(4, 4))
	mid, most := 0, 0
	for range 3 {
		old := tempFiles()
		cmd := mirrorProcess(t, sync...)
		for deadline := time.Now().Add(10 * time.Second); !newTemp(old) && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		if killAfter(cmd, time.Duration(rng.Float64()*float64(20*time.Millisecond))) {
			mid++
		}
		most = max(most, countTemps())
	}
	temps := countTemps()
	if temps > 0 {
		out, _, code := mirrorCmd(t, "verify", dst)
		if code == 0 || !strings.Contains(out, "temporary file") {
			t.Errorf("verify with %d temporary files left: exit %d:\n%s", temps, code, out)
		}
	}
	out, errs, code := mirrorCmd(t, sync...)
	var rep cleanedReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || !rep.Complete || rep.TempFiles != temps {
		t.Fatalf("rerun: exit %d, removed %d temporary files of %d: %s%s", code, rep.TempFiles, temps, out, errs)
	}
	if got, err := sha256Of(os.Open(filepath.Join(dst, "fedora-atomic-28.raw.xz"))); got != sum {
		t.Errorf("sha256 %s (%v), want %s", got, err, sum)
	}
	filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".mirror-tmp-") {
			t.Errorf("%s left after the rerun", p)
		}
		return nil
	})
	t.Logf("figure: 1 GiB local copy: 3 kills (%d mid-run) left %d temporary files before the rerun; the rerun removed them", mid, temps)
	if most == 0 {
		t.Error("no kill left a temporary file: the test no longer exercises the cleanup")
	}
}
