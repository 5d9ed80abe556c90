package watch_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/watch"
)

func TestDirsSeesNewDirectoriesAndDebounces(t *testing.T) {
	root := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// New watches from the moment it returns: nothing to wait for.
	w, err := watch.New([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []string, 10)
	go w.Run(ctx, 50*time.Millisecond, func(c []string) { got <- c })

	sub := filepath.Join(root, "stable")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	wait(t, got, sub)
	// A file in the new directory: fsnotify is not recursive, so this is
	// seen only if the new directory was added.
	f := filepath.Join(sub, "28.20180501.0.json")
	os.WriteFile(filepath.Join(sub, ".28.tmp"), []byte("x"), 0o644)
	os.WriteFile(f, []byte("{}"), 0o644)
	os.WriteFile(f+".sig", []byte("x"), 0o644)
	batch := wait(t, got, f)
	if !slices.Contains(batch, f+".sig") {
		t.Errorf("batch %v: want the .json and its .sig in one batch", batch)
	}
	for _, p := range batch {
		if filepath.Base(p)[0] == '.' {
			t.Errorf("batch %v holds a dot file", batch)
		}
	}
}

func wait(t *testing.T, got chan []string, want string) []string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case c := <-got:
			if slices.Contains(c, want) {
				return c
			}
		case <-deadline:
			t.Fatalf("no change reported for %s", want)
		}
	}
}

// A change made after New and before Run is reported once Run starts:
// serve watches, builds, then runs, and a manifest written during its
// first build is not lost.
func TestChangesBeforeRun(t *testing.T) {
	root := t.TempDir()
	w, err := watch.New([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(root, "28.20180501.0.json")
	if err := os.WriteFile(f, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan []string, 10)
	go w.Run(ctx, 20*time.Millisecond, func(c []string) { got <- c })
	wait(t, got, f)
}
