package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/testkit/disk"
)

// files lists the files below dir, as paths relative to it.
func files(t *testing.T, dir string) []string {
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return nil
	})
	return names
}

// A full disk gives one clear error naming the file, no partial file under
// its final name and no temporary file; once space is freed, a resync
// converges. A read-only destination gives the same kind of error.
func TestLocalDestinationFullOrReadOnly(t *testing.T) {
	src := t.TempDir()
	big := bytes.Repeat([]byte("atomic image "), 200_000) // 2.6 MB
	os.WriteFile(filepath.Join(src, "big.img"), big, 0o644)
	os.WriteFile(filepath.Join(src, "small.txt"), []byte("small\n"), 0o644)
	dst := disk.Tmpfs(t, "1m")

	_, errs, code := mirrorCmd(t, "sync", src, dst, "--progress", "none")
	if code == 0 {
		t.Fatal("sync onto a full disk succeeded")
	}
	// Uploads run in parallel: a small file may hit the full disk too. Each
	// failure is one line naming its file; the big one is among them.
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	for _, l := range lines {
		if !regexp.MustCompile(`write ` + regexp.QuoteMeta(dst) + `/[a-z.]+: no space left on device`).MatchString(l) {
			t.Errorf("stderr line %q does not name a file and say the disk is full", l)
		}
	}
	if want := "write " + filepath.Join(dst, "big.img") + ": no space left on device"; !strings.Contains(errs, want) {
		t.Errorf("stderr = %q, want a line saying %q", errs, want)
	}
	for _, f := range files(t, dst) {
		if f == "big.img" || strings.Contains(f, ".mirror-tmp-") {
			t.Errorf("after the failure, %s is in the destination", f)
		}
	}

	disk.Remount(t, dst, "size=8m")
	if _, errs, code := mirrorCmd(t, "sync", src, dst, "--progress", "none"); code != 0 {
		t.Fatalf("resync after freeing space: exit %d: %s", code, errs)
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "big.img")); !bytes.Equal(got, big) {
		t.Error("big.img is not whole after the resync")
	}

	os.WriteFile(filepath.Join(src, "new.txt"), []byte("new\n"), 0o644)
	disk.Remount(t, dst, "ro")
	_, errs, code = mirrorCmd(t, "sync", src, dst, "--progress", "none")
	want := "write " + filepath.Join(dst, "new.txt") + ": read-only file system"
	if lines := strings.Split(strings.TrimSpace(errs), "\n"); code == 0 || len(lines) != 1 || !strings.Contains(lines[0], want) {
		t.Errorf("read-only destination: exit %d, stderr %q; want one line saying %q", code, errs, want)
	}
	disk.Remount(t, dst, "rw")
}
