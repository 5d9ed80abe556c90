package ostree_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/projectatomic/atomic-site/internal/ostree"
)

// testdata/repo was written by the real ostree (testdata/make-repo.sh).
const (
	repo     = "testdata/repo"
	host     = "fedora/28/x86_64/atomic-host"
	testing_ = "fedora/28/x86_64/testing"
	first    = "4db142eae56c551e9cf89df81dc66d713d1a5bf7ac12f307a3abe641cc71e5c2"
	second   = "85d57481c39c9cc63871830b549e4d117840efb9161c0082e55aec10e48a03fc"
	third    = "73111d15b822beb4ad4cbb45c9e365f07cce2b72a30b2492faf47a4d042d2180"
)

// dirObjects is a repository directory, less the keys in missing, and
// records what a walk asked for.
type dirObjects struct {
	dir     string
	missing map[string]bool
	mu      sync.Mutex
	asked   map[string]bool
}

func (d *dirObjects) Has(key string) bool {
	d.mu.Lock()
	d.asked[key] = true
	d.mu.Unlock()
	if d.missing[key] {
		return false
	}
	_, err := os.Stat(filepath.Join(d.dir, key))
	return err == nil
}

func (d *dirObjects) Read(_ context.Context, key string) ([]byte, error) {
	return os.ReadFile(filepath.Join(d.dir, key))
}

func refs(t *testing.T) map[string]string {
	t.Helper()
	r := map[string]string{}
	for _, name := range []string{host, testing_} {
		data, err := os.ReadFile(filepath.Join(repo, "refs/heads", name))
		if err != nil {
			t.Fatal(err)
		}
		r[name] = strings.TrimSpace(string(data))
	}
	return r
}

func TestParseCommit(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repo, ostree.ObjectPath(second, "commit")))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ostree.ParseCommit(data)
	if err != nil {
		t.Fatal(err)
	}
	if c.Parent != first || c.Subject != "second" {
		t.Errorf("commit = %+v, want parent %s, subject second", c, first)
	}
	for _, key := range []string{ostree.ObjectPath(c.RootTree, "dirtree"), ostree.ObjectPath(c.RootMeta, "dirmeta")} {
		if _, err := os.Stat(filepath.Join(repo, key)); err != nil {
			t.Errorf("root object: %v", err)
		}
	}
	data, _ = os.ReadFile(filepath.Join(repo, ostree.ObjectPath(first, "commit")))
	if c, err := ostree.ParseCommit(data); err != nil || c.Parent != "" || c.Subject != "first" {
		t.Errorf("first commit = %+v, %v", c, err)
	}
}

func TestParseSummary(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repo, "summary"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ostree.ParseSummary(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := refs(t); len(got) != 2 || got[host] != want[host] || got[testing_] != want[testing_] {
		t.Errorf("summary refs = %v, want %v", got, want)
	}
}

// A walk of every ref, and of the first commit, asks for exactly the
// objects ostree wrote, and finds no gap in a whole repository.
func TestWalkWhole(t *testing.T) {
	objs := &dirObjects{dir: repo, asked: map[string]bool{}}
	all := refs(t)
	all["old"] = first
	gaps, err := ostree.Walk(context.Background(), all, objs, 4)
	if err != nil || len(gaps) != 0 {
		t.Fatalf("Walk = %v, %v", gaps, err)
	}
	var onDisk []string
	filepath.WalkDir(filepath.Join(repo, "objects"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(repo, p)
			onDisk = append(onDisk, filepath.ToSlash(rel))
		}
		return nil
	})
	for _, key := range onDisk {
		if !objs.asked[key] {
			t.Errorf("walk never asked for %s", key)
		}
	}
	for k := range objs.asked {
		if !slices.Contains(onDisk, k) {
			t.Errorf("walk asked for %s, which ostree never wrote", k)
		}
	}
	if len(onDisk) < 20 {
		t.Errorf("only %d objects in %s", len(onDisk), repo)
	}
}

// A missing object of each kind is found, named with the ref that needs it.
func TestWalkGaps(t *testing.T) {
	data, _ := os.ReadFile(filepath.Join(repo, ostree.ObjectPath(third, "commit")))
	c, err := ostree.ParseCommit(data)
	if err != nil {
		t.Fatal(err)
	}
	tdata, _ := os.ReadFile(filepath.Join(repo, ostree.ObjectPath(c.RootTree, "dirtree")))
	root, err := ostree.ParseDirTree(tdata)
	if err != nil {
		t.Fatal(err)
	}
	var usr ostree.TreeDir
	for _, d := range root.Dirs {
		if d.Name == "usr" {
			usr = d
		}
	}
	udata, _ := os.ReadFile(filepath.Join(repo, ostree.ObjectPath(usr.Tree, "dirtree")))
	usrTree, _ := ostree.ParseDirTree(udata)
	if len(usrTree.Dirs) == 0 {
		t.Fatal("usr has no subdirectories")
	}
	etc := ""
	for _, d := range root.Dirs {
		if d.Name == "etc" {
			edata, _ := os.ReadFile(filepath.Join(repo, ostree.ObjectPath(d.Tree, "dirtree")))
			et, _ := ostree.ParseDirTree(edata)
			etc = ostree.ObjectPath(et.Files[0].Checksum, "filez")
		}
	}
	for _, tt := range []struct {
		name, key string
	}{
		{"commit", ostree.ObjectPath(third, "commit")},
		{"dirtree", ostree.ObjectPath(usrTree.Dirs[0].Tree, "dirtree")},
		{"dirmeta", ostree.ObjectPath(c.RootMeta, "dirmeta")},
		{"file", etc},
	} {
		t.Run(tt.name, func(t *testing.T) {
			objs := &dirObjects{dir: repo, asked: map[string]bool{}, missing: map[string]bool{tt.key: true}}
			only := map[string]string{testing_: third}
			gaps, err := ostree.Walk(context.Background(), only, objs, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(gaps) != 1 || gaps[0].Key != tt.key || gaps[0].Ref != testing_ || gaps[0].Reason != "missing" {
				t.Errorf("gaps = %v, want %s missing for %s", gaps, tt.key, testing_)
			}
		})
	}
}

// A commit that is not a commit is a gap that says why.
func TestWalkMalformed(t *testing.T) {
	dir := t.TempDir()
	key := ostree.ObjectPath(third, "commit")
	os.MkdirAll(filepath.Join(dir, filepath.Dir(key)), 0o755)
	os.WriteFile(filepath.Join(dir, key), []byte("not a commit"), 0o644)
	gaps, err := ostree.Walk(context.Background(), map[string]string{testing_: third}, &dirObjects{dir: dir, asked: map[string]bool{}}, 1)
	if err != nil || len(gaps) != 1 || !strings.Contains(gaps[0].Reason, "commit") {
		t.Errorf("gaps = %v, %v", gaps, err)
	}
}
