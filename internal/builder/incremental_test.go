package builder_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/builder"
	"github.com/projectatomic/atomic-site/internal/testkit/synth"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// A Builder kept alive (serve) renders, for each change to the manifests,
// only the pages whose content the change touches, as Hugo counts them,
// settled pages (rendered apart) included; with no change it renders and
// writes nothing.
func TestIncrementalRebuilds(t *testing.T) {
	manifests := t.TempDir()
	s, err := trust.LoadSigner(filepath.Join(repo, "testdata", "test-signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	// 120 builds a stream: past the stream page's 50, over two years.
	if _, err := synth.History(manifests, s, synth.Spec{Streams: []string{"stable", "testing"}, Builds: 240,
		Arches: []string{"x86_64"}, Start: time.Date(2017, 11, 1, 0, 0, 0, 0, time.UTC), FailEvery: 17, RevokeEvery: 41}); err != nil {
		t.Fatal(err)
	}
	opts := exampleOptions(manifests)
	opts.History.Now = time.Date(2018, 3, 2, 0, 0, 0, 0, time.UTC)
	pub := t.TempDir()
	b, err := builder.New(opts, pub, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := b.Rebuild(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Every page once, and the build pages' CHECKSUM files.
	if res.Rendered < res.Pages {
		t.Fatalf("first build rendered %d of %d pages", res.Rendered, res.Pages)
	}
	before := snapshot(t, pub)
	current := res.Streams["stable"]

	step := func(name string, change func(), wantRendered int, wantHugo []string) {
		t.Helper()
		// The files changed, named as serve's watcher names them.
		was := snapshot(t, manifests)
		change()
		var changed []string
		for _, p := range changedSince(t, manifests, was) {
			changed = append(changed, filepath.Join(manifests, filepath.FromSlash(p)))
		}
		res, err := b.Rebuild(ctx, changed)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		written := changedSince(t, pub, before)
		before = snapshot(t, pub)
		if wantHugo == nil && len(written) > 0 {
			t.Errorf("%s: wrote %s, want nothing written", name, strings.Join(written, " "))
		}
		// What was rendered: pages (latest/ holds pages sitegen writes
		// itself, outputs of the stream), and the sitemap, which sitegen
		// writes from Hugo's pages when Hugo rendered any.
		var hugo []string
		for _, p := range written {
			if (strings.HasSuffix(p, ".html") && !strings.HasPrefix(p, "latest/")) || p == "sitemap.xml" {
				hugo = append(hugo, p)
			}
			// The rest: the manifests and the outputs of the stream changed.
			if strings.Contains(p, "testing") {
				t.Errorf("%s: wrote %s, of a stream it did not change", name, p)
			}
		}
		slices.Sort(wantHugo)
		if res.Rendered != wantRendered || !slices.Equal(hugo, wantHugo) {
			t.Errorf("%s: Hugo rendered %d pages, want %d; wrote\n\t%s\nwant\n\t%s", name, res.Rendered, wantRendered,
				strings.Join(hugo, "\n\t"), strings.Join(wantHugo, "\n\t"))
		}
	}

	step("no change", func() {}, 0, nil)

	next := "28.20180301.0"
	step("a new current build", func() {
		must(t, synth.WriteBuild(manifests, s, synth.Build("stable", next, time.Date(2018, 3, 1, 12, 0, 0, 0, time.UTC), "x86_64")))
	}, 5, []string{
		"streams/stable/" + next + "/index.html",
		// No longer current.
		"streams/stable/" + current + "/index.html",
		"streams/stable/index.html", "streams/stable/history/2018/index.html", "index.html", "sitemap.xml",
	})

	old := "28.20171201.0"
	step("an old build revoked", func() {
		must(t, synth.WriteRevocation(manifests, s, "stable", old, "https://bugzilla.example.org/1", time.Date(2018, 3, 1, 13, 0, 0, 0, time.UTC)))
	}, 2, []string{
		"streams/stable/" + old + "/index.html",
		"streams/stable/history/2017/index.html", "sitemap.xml",
	})

	step("the current build revoked", func() {
		must(t, synth.WriteRevocation(manifests, s, "stable", next, "https://bugzilla.example.org/2", time.Date(2018, 3, 1, 14, 0, 0, 0, time.UTC)))
	}, 5, []string{
		"streams/stable/" + next + "/index.html",
		// Current again.
		"streams/stable/" + current + "/index.html",
		"streams/stable/index.html", "streams/stable/history/2018/index.html", "index.html", "sitemap.xml",
	})

	step("no change again", func() {}, 0, nil)
}

// fileState is what a write to a file changes.
type fileState struct {
	mod   time.Time
	size  int64
	inode uint64
}

func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	m := map[string]fileState{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		var ino uint64
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			ino = st.Ino
		}
		m[filepath.ToSlash(rel)] = fileState{fi.ModTime(), fi.Size(), ino}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// changedSince lists the files of dir written, created or removed since
// the snapshot was taken, sorted.
func changedSince(t *testing.T, dir string, old map[string]fileState) []string {
	t.Helper()
	now := snapshot(t, dir)
	var changed []string
	for p, s := range now {
		if o, ok := old[p]; !ok || o != s {
			changed = append(changed, p)
		}
	}
	for p := range old {
		if _, ok := now[p]; !ok {
			changed = append(changed, p)
		}
	}
	slices.Sort(changed)
	return changed
}
