package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sitegen as a release bot installs it: the binary alone, run from an
// empty directory with only --manifests, --keys and --out, builds the same
// site as the golden files, from the files built into it.
func TestInstalledBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sitegen")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	repo, _ := filepath.Abs("../..")
	empty := t.TempDir()
	cmd := exec.Command(bin, "build", "--manifests", filepath.Join(repo, "testdata", "manifests"),
		"--keys", filepath.Join(repo, "testdata", "keys"), "--now", "2018-06-10T00:00:00Z", "--out", "public")
	cmd.Dir = empty
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir()) // a cache of its own: the first run extracts
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sitegen build from an empty directory: %v\n%s", err, out)
	}
	golden := filepath.Join(repo, "internal", "builder", "testdata", "golden")
	n := 0
	filepath.WalkDir(golden, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(golden, p)
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(empty, "public", strings.TrimSuffix(rel, ".golden")))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s differs from the golden file (%v)", strings.TrimSuffix(rel, ".golden"), err)
		}
		n++
		return nil
	})
	if n < 30 {
		t.Errorf("compared %d files, want the whole golden site", n)
	}
}
