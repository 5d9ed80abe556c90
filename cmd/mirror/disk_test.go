package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tmpfs mounts a tmpfs of the given size (mount's notation, like 1m) at a
// fresh directory and unmounts it when the test ends. Tests run as root
// (make test, CI).
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("mounting a tmpfs needs root: make test and CI run as root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

func remount(t *testing.T, dir, opts string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+opts, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s: %v\n%s", opts, err, out)
	}
}

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
	dst := tmpfs(t, "1m")

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

	remount(t, dst, "size=8m")
	if _, errs, code := mirrorCmd(t, "sync", src, dst, "--progress", "none"); code != 0 {
		t.Fatalf("resync after freeing space: exit %d: %s", code, errs)
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "big.img")); !bytes.Equal(got, big) {
		t.Error("big.img is not whole after the resync")
	}

	os.WriteFile(filepath.Join(src, "new.txt"), []byte("new\n"), 0o644)
	remount(t, dst, "ro")
	_, errs, code = mirrorCmd(t, "sync", src, dst, "--progress", "none")
	want := "write " + filepath.Join(dst, "new.txt") + ": read-only file system"
	if lines := strings.Split(strings.TrimSpace(errs), "\n"); code == 0 || len(lines) != 1 || !strings.Contains(lines[0], want) {
		t.Errorf("read-only destination: exit %d, stderr %q; want one line saying %q", code, errs, want)
	}
	remount(t, dst, "rw")
}
