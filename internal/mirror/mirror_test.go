package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/ostree"
	"github.com/projectatomic/atomic-site/internal/store"
)

// memStore records the order of every Put, and fails where told to.
type memStore struct {
	mu      sync.Mutex
	objects map[string]store.Object
	puts    []string
	deletes []string
	failOn  func(key string) bool
	noSum   bool // list without sha256 metadata, as plain S3 does
}

func newMemStore() *memStore { return &memStore{objects: map[string]store.Object{}} }

func (m *memStore) List(ctx context.Context, _ func(string) bool, fn func(store.Object) error) error {
	m.mu.Lock()
	objs := make([]store.Object, 0, len(m.objects))
	for _, o := range m.objects {
		if m.noSum {
			o.SHA256 = ""
		}
		objs = append(objs, o)
	}
	m.mu.Unlock()
	for _, o := range objs {
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) Put(ctx context.Context, u store.Upload) error {
	if m.failOn != nil && m.failOn(u.Key) {
		return fmt.Errorf("injected failure")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[u.Key] = store.Object{Key: u.Key, Size: u.Size, SHA256: u.SHA256}
	m.puts = append(m.puts, u.Key)
	return nil
}

func (m *memStore) Delete(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	m.deletes = append(m.deletes, key)
	return nil
}

// fakeRepo copies the small repository the real ostree wrote
// (internal/ostree/testdata) and adds a file of every other kind.
func fakeRepo(t *testing.T) string {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../ostree/testdata/repo")); err != nil {
		t.Fatal(err)
	}
	commit := "objects/4d/b142eae56c551e9cf89df81dc66d713d1a5bf7ac12f307a3abe641cc71e5c2"
	files := map[string]string{
		commit + ".commitmeta":     "meta",
		"deltas/ae/x-y/0":          "part 0",
		"deltas/ae/x-y/1":          "part 1",
		"deltas/ae/x-y/superblock": "superblock",
		"delta-indexes/ae/y.index": "index",
		"summary.sig":              "sig",
		"tmp/cache/junk":           "never",
		"state/x.commitpartial":    "never",
		".lock":                    "",
	}
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// published counts the files of a repository that a sync publishes.
func published(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			if !ostree.Classify(filepath.ToSlash(rel)).Skip {
				n++
			}
		}
		return nil
	})
	return n
}

func plan(t *testing.T, dir string, dst mirror.Store, del bool) *mirror.Plan {
	t.Helper()
	var opts *mirror.DeleteOptions
	if del {
		opts = &mirror.DeleteOptions{Max: mirror.Limit{Percent: 100}, Now: time.Now()}
	}
	return planWith(t, dir, dst, opts)
}

func planWith(t *testing.T, dir string, dst mirror.Store, del *mirror.DeleteOptions) *mirror.Plan {
	t.Helper()
	src, err := mirror.Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := mirror.MakePlan(context.Background(), src, dst, del)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPublishOrder(t *testing.T) {
	dir := fakeRepo(t)
	dst := newMemStore()
	if _, err := mirror.Execute(context.Background(), plan(t, dir, dst, false), dst, mirror.Options{Jobs: 8}); err != nil {
		t.Fatal(err)
	}
	last := ostree.Phase(-1)
	for _, key := range dst.puts {
		c := ostree.Classify(key)
		if c.Skip {
			t.Errorf("uploaded %s, which is never published", key)
		}
		if c.Phase < last {
			t.Errorf("%s (%v) uploaded after a file of phase %v", key, c.Phase, last)
		}
		last = c.Phase
	}
	if want := published(t, dir); len(dst.puts) != want || want < 30 {
		t.Errorf("uploaded %d files, want %d: %v", len(dst.puts), want, dst.puts)
	}
}

func TestNoOpResync(t *testing.T) {
	for _, noSum := range []bool{false, true} {
		dir := fakeRepo(t)
		dst := newMemStore()
		dst.noSum = noSum
		mirror.Execute(context.Background(), plan(t, dir, dst, false), dst, mirror.Options{Jobs: 4})
		p := plan(t, dir, dst, false)
		n, _ := p.Totals()
		// Without sha256 in the listing, mutable files cannot be proven
		// equal (the fake has no MD5 ETag either): they go again.
		want := 0
		if noSum {
			want = 8 // config, commitmeta, two delta indexes, two refs, summary, summary.sig
		}
		if n != want {
			t.Errorf("noSum=%v: second plan uploads %d files, want %d", noSum, n, want)
		}
	}
}

func TestChangedRefIsUploaded(t *testing.T) {
	dir := fakeRepo(t)
	dst := newMemStore()
	mirror.Execute(context.Background(), plan(t, dir, dst, false), dst, mirror.Options{Jobs: 4})
	// Same size, new content: only a content comparison sees it.
	os.WriteFile(filepath.Join(dir, "refs/heads/fedora/28/x86_64/testing"), []byte("ae"+strings.Repeat("6", 62)+"\n"), 0o644)
	p := plan(t, dir, dst, false)
	if n, _ := p.Totals(); n != 1 || p.Uploads[ostree.PhaseRefs][0].Rel != "refs/heads/fedora/28/x86_64/testing" {
		t.Errorf("plan = %+v, want just the changed ref", p.Uploads)
	}
}

// A failure in one phase stops the run before the next; running again
// resumes and finishes.
func TestFailureStopsBeforeNextPhase(t *testing.T) {
	dir := fakeRepo(t)
	dst := newMemStore()
	dst.failOn = func(k string) bool { return strings.HasSuffix(k, ".commit") }
	_, err := mirror.Execute(context.Background(), plan(t, dir, dst, true), dst, mirror.Options{Jobs: 4})
	if !errors.Is(err, mirror.ErrPhase) || !strings.Contains(err.Error(), "commits") || !strings.Contains(err.Error(), ".commit") {
		t.Fatalf("err = %v, want a commits-phase failure naming the object", err)
	}
	for _, k := range dst.puts {
		if c := ostree.Classify(k); c.Phase > ostree.PhaseCommits {
			t.Errorf("%s was uploaded after the commits phase failed", k)
		}
	}
	dst.failOn = nil
	if _, err := mirror.Execute(context.Background(), plan(t, dir, dst, true), dst, mirror.Options{Jobs: 4}); err != nil {
		t.Fatal(err)
	}
	if _, ok := dst.objects["summary.sig"]; !ok {
		t.Error("the resumed run did not finish")
	}
}

// --delete removes what the source no longer has, only after the summary is
// published, summary first and objects last; a failed run deletes nothing.
func TestDelete(t *testing.T) {
	dir := fakeRepo(t)
	dst := newMemStore()
	mirror.Execute(context.Background(), plan(t, dir, dst, false), dst, mirror.Options{Jobs: 4})
	dst.objects["objects/ff/"+strings.Repeat("9", 62)+".filez"] = store.Object{Key: "objects/ff/" + strings.Repeat("9", 62) + ".filez", Size: 1}
	dst.objects["refs/heads/old"] = store.Object{Key: "refs/heads/old", Size: 1}
	dst.objects["tmp/leftover"] = store.Object{Key: "tmp/leftover", Size: 1}
	os.WriteFile(filepath.Join(dir, "summary.sig"), []byte("sig 2"), 0o644)

	dst.failOn = func(k string) bool { return k == "summary.sig" }
	mirror.Execute(context.Background(), plan(t, dir, dst, true), dst, mirror.Options{Jobs: 4})
	if len(dst.deletes) != 0 {
		t.Fatalf("a failed run deleted %v", dst.deletes)
	}
	dst.failOn = nil
	dst.puts = nil
	rep, err := mirror.Execute(context.Background(), plan(t, dir, dst, true), dst, mirror.Options{Jobs: 4})
	if err != nil || rep.Deleted != 3 {
		t.Fatalf("deleted %v, err %v", dst.deletes, err)
	}
	if dst.deletes[0] != "tmp/leftover" || dst.deletes[1] != "refs/heads/old" || !strings.HasPrefix(dst.deletes[2], "objects/") {
		t.Errorf("delete order %v: want junk, then refs, then objects", dst.deletes)
	}
	if len(dst.puts) != 1 || dst.puts[0] != "summary.sig" {
		t.Errorf("puts %v, want only the new summary.sig", dst.puts)
	}
}

func TestHeaders(t *testing.T) {
	for _, tt := range []struct {
		f      mirror.File
		ct, cc string
	}{
		{mirror.File{Rel: "objects/aa/b.filez"}, "application/octet-stream", mirror.CacheImmutable},
		{mirror.File{Rel: "refs/heads/x", Mutable: true}, "text/plain; charset=utf-8", mirror.CacheMutable},
		{mirror.File{Rel: "summary", Mutable: true}, "application/octet-stream", mirror.CacheRevalidate},
		{mirror.File{Rel: "summary.sig", Mutable: true}, "application/octet-stream", mirror.CacheRevalidate},
		{mirror.File{Rel: "summary.idx.sig", Mutable: true}, "application/octet-stream", mirror.CacheRevalidate},
		{mirror.File{Rel: "stable/28.json", Mutable: true}, "application/json", mirror.CacheMutable},
		{mirror.File{Rel: "stable/x86_64/a.iso"}, "application/x-iso9660-image", mirror.CacheImmutable},
		{mirror.File{Rel: "stable/x86_64/a.raw.xz"}, "application/x-xz", mirror.CacheImmutable},
	} {
		ct, cc := mirror.Headers(tt.f)
		if ct != tt.ct || cc != tt.cc {
			t.Errorf("Headers(%s) = %q, %q; want %q, %q", tt.f.Rel, ct, cc, tt.ct, tt.cc)
		}
	}
}
