// Package golden compares what a test produced with the golden files kept
// beside it, and rewrites them on -update: every file produced has its
// golden file, and no golden file is left that nothing produces.
package golden

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Suffix ends every golden file's name.
const Suffix = ".golden"

// Check compares got (slash paths relative to dir, without Suffix, and
// their content) with the golden files below dir. A file that differs, is
// missing or is left over fails the test, named. With update, dir is made
// to hold exactly got: files are written and stale ones removed.
func Check(t testing.TB, dir string, got map[string][]byte, update bool) {
	t.Helper()
	have := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == dir {
				return nil
			}
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, Suffix) {
			rel, _ := filepath.Rel(dir, p)
			have[strings.TrimSuffix(filepath.ToSlash(rel), Suffix)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read golden files: %v", err)
	}
	for _, rel := range slices.Sorted(maps.Keys(got)) {
		p := filepath.Join(dir, filepath.FromSlash(rel)+Suffix)
		if update {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, got[rel], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if !have[rel] {
			t.Errorf("%s: no golden file %s (run go test -update and review it)", rel, p)
			continue
		}
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[rel], want) {
			t.Errorf("%s differs from %s (run go test -update and review the diff)\n%s", rel, p, FirstDiff(string(got[rel]), string(want)))
		}
	}
	for _, rel := range slices.Sorted(maps.Keys(have)) {
		if _, ok := got[rel]; ok {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(rel)+Suffix)
		if !update {
			t.Errorf("%s is no longer produced (run go test -update to remove it)", p)
			continue
		}
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
}

// FirstDiff says where got and want first differ, by line.
func FirstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + g[i] + "\nwant: " + w[i]
		}
	}
	return "lengths differ: " + strconv.Itoa(len(g)) + " lines, want " + strconv.Itoa(len(w))
}
