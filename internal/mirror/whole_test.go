package mirror_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/ostree"
	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/store/local"
)

// A file object of the testing ref's tree, from the repository ostree wrote.
const someFile = "objects/f8/4abcfc462ffe19766364b20909b520cb43a839476715735d8fb8e88fb64401.filez"

// A source missing an object its refs need publishes the objects it has,
// then stops before any ref or the summary, naming the ref and the object.
func TestNotWholeStopsBeforeRefs(t *testing.T) {
	dir := fakeRepo(t)
	if err := os.Remove(filepath.Join(dir, someFile)); err != nil {
		t.Fatal(err)
	}
	dst := newMemStore()
	_, err := mirror.Execute(context.Background(), plan(t, dir, dst, false), dst, mirror.Options{Jobs: 4})
	if !errors.Is(err, mirror.ErrNotWhole) || !strings.Contains(err.Error(), someFile) || !strings.Contains(err.Error(), "fedora/28/x86_64/") {
		t.Fatalf("err = %v, want the ref and %s named", err, someFile)
	}
	for _, k := range dst.puts {
		if ostree.Classify(k).Phase >= ostree.PhaseRefs {
			t.Errorf("%s published although a ref is not whole", k)
		}
	}
	// The object is at the destination after all (an earlier sync put
	// it there): then the refs are whole.
	dst.objects[someFile] = store.Object{Key: someFile, Size: 1}
	if _, err := mirror.Execute(context.Background(), plan(t, dir, dst, false), dst, mirror.Options{Jobs: 4}); err != nil {
		t.Fatal(err)
	}
	if _, ok := dst.objects["summary"]; !ok {
		t.Error("summary not published")
	}
}

// A summary regenerated after the run read it is not sent: the pair on
// the destination stays as it was.
func TestSummaryChangedMeanwhile(t *testing.T) {
	dir := fakeRepo(t)
	dst := newMemStore()
	p := plan(t, dir, dst, false)
	os.WriteFile(filepath.Join(dir, "summary.sig"), []byte("new"), 0o644)
	_, err := mirror.Execute(context.Background(), p, dst, mirror.Options{Jobs: 4})
	if err == nil || !strings.Contains(err.Error(), "summary.sig changed") {
		t.Fatalf("err = %v", err)
	}
	for _, k := range dst.puts {
		if k == "summary" || k == "summary.sig" {
			t.Errorf("%s sent from a changed pair", k)
		}
	}
}

// The summary and its signature go last, the signature right after the
// summary, and the report says how far apart.
func TestSignedPairBackToBack(t *testing.T) {
	dir := fakeRepo(t)
	dst := newMemStore()
	rep, err := mirror.Execute(context.Background(), plan(t, dir, dst, false), dst, mirror.Options{Jobs: 8})
	if err != nil {
		t.Fatal(err)
	}
	n := len(dst.puts)
	if n < 2 || dst.puts[n-2] != "summary" || dst.puts[n-1] != "summary.sig" {
		t.Errorf("last puts %v, want summary then summary.sig", dst.puts[max(0, n-3):])
	}
	if rep.SignedGap <= 0 {
		t.Errorf("signed pair gap %v not reported", rep.SignedGap)
	}
}

func TestSourceSymlinks(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(outside, []byte("hostname"), 0o644)
	outsideDir := t.TempDir()
	os.WriteFile(filepath.Join(outsideDir, "f"), []byte("x"), 0o644)
	for _, tt := range []struct {
		name, link, target string
		ok                 bool
	}{
		{"file outside", "objects/zz/leak.filez", outside, false},
		{"directory outside", "deltas/leak", outsideDir, false},
		{"relative outside", "extra", "../../../../../../../../etc", false},
		{"file inside", "extensions/config-copy", "../config", true},
		{"directory inside", "deltas/copy", "../objects/4d", true},
		{"loop", "deltas/loop", "..", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := fakeRepo(t)
			p := filepath.Join(dir, filepath.FromSlash(tt.link))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.Symlink(tt.target, p); err != nil {
				t.Fatal(err)
			}
			src, err := mirror.Open(context.Background(), dir, nil)
			if !tt.ok {
				if err == nil || !strings.Contains(err.Error(), tt.link) {
					t.Fatalf("err = %v, want the link %s named", err, tt.link)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range src.Files {
				found = found || strings.HasPrefix(f.Rel, tt.link)
				if !strings.HasPrefix(f.Path, dir) && !strings.HasPrefix(f.Path, mustEval(t, dir)) {
					t.Errorf("%s read from %s, outside the source", f.Rel, f.Path)
				}
			}
			if !found {
				t.Errorf("%s not followed", tt.link)
			}
		})
	}
}

func mustEval(t *testing.T, p string) string {
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A local destination whose refs directory is a link elsewhere: the run is
// refused before it writes, nothing lands in the other directory, and
// --delete leaves the link alone.
func TestDestinationSymlink(t *testing.T) {
	dir := fakeRepo(t)
	dstDir, elsewhere := t.TempDir(), t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(dstDir, "refs")); err != nil {
		t.Fatal(err)
	}
	dst, _ := local.New(dstDir)
	src, err := mirror.Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = mirror.MakePlan(context.Background(), src, dst, &mirror.DeleteOptions{Max: mirror.Limit{Percent: 100}})
	if err == nil || !strings.Contains(err.Error(), "refs is a symbolic link") {
		t.Fatalf("err = %v, want the link named", err)
	}
	// Even a store asked directly refuses to write through it.
	f := filepath.Join(t.TempDir(), "f")
	os.WriteFile(f, []byte("x"), 0o644)
	if err := dst.Put(context.Background(), store.Upload{Key: "refs/heads/x", Path: f, Size: 1}); err == nil {
		t.Error("Put wrote through a symbolic link")
	}
	if err := dst.Delete(context.Background(), "refs"); err == nil {
		t.Error("Delete removed a symbolic link")
	}
	entries, _ := os.ReadDir(elsewhere)
	if len(entries) != 0 {
		t.Errorf("wrote %d entries outside the destination", len(entries))
	}
	if fi, err := os.Lstat(filepath.Join(dstDir, "refs")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the link is gone")
	}
}
