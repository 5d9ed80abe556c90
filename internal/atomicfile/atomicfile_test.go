package atomicfile_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/atomicfile"
)

func TestWriteAllReplacesAndSetsMode(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte("old"), 0o644)
	if err := atomicfile.WriteAll(
		atomicfile.File{Path: a, Data: []byte("new a"), Perm: 0o600},
		atomicfile.File{Path: b, Data: []byte("new b"), Perm: 0o644},
	); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{a: "new a", b: "new b"} {
		got, _ := os.ReadFile(p)
		if string(got) != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	if fi, _ := os.Stat(a); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
}

// A failure while writing any file leaves every target as it was, and no
// temp files behind.
func TestWriteAllFailureChangesNothing(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	os.WriteFile(a, []byte("old"), 0o644)
	err := atomicfile.WriteAll(
		atomicfile.File{Path: a, Data: []byte("new"), Perm: 0o644},
		atomicfile.File{Path: filepath.Join(dir, "missing-dir", "b"), Data: []byte("x"), Perm: 0o644},
	)
	if err == nil {
		t.Fatal("WriteAll succeeded")
	}
	if got, _ := os.ReadFile(a); string(got) != "old" {
		t.Errorf("a = %q, want it untouched", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only a", len(entries))
	}
}

func TestNoClobber(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(b, []byte("keep"), 0o644)
	err := atomicfile.NoClobber(
		atomicfile.File{Path: a, Data: []byte("x"), Perm: 0o644},
		atomicfile.File{Path: b, Data: []byte("y"), Perm: 0o644},
	)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(a); err == nil {
		t.Error("a was written although b exists")
	}
}
