// Package watch reports changes below a set of directories, debounced, so
// that one save or one sync of many files causes one rebuild. fsnotify
// watches single directories; this adds every directory below the roots,
// and new ones as they appear.
package watch

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Dirs calls fn with the paths that changed below roots, at most once per
// quiet period of debounce, until ctx is done. A root that does not exist
// is an error; one that appears later is not watched.
func Dirs(ctx context.Context, roots []string, debounce time.Duration, fn func(changed []string)) error {
	w, err := New(roots)
	if err != nil {
		return err
	}
	return w.Run(ctx, debounce, fn)
}

// A Watcher watches every directory below its roots from the moment New
// returns: a change made before Run starts is reported when it does, so a
// caller can watch first and then read what it watches, and miss nothing.
type Watcher struct {
	w *fsnotify.Watcher
}

// New watches every directory below roots. A root that does not exist is
// an error.
func New(roots []string) (*Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	for _, r := range roots {
		if err := addTree(w, r); err != nil {
			w.Close()
			return nil, err
		}
	}
	return &Watcher{w: w}, nil
}

// Close stops watching, for a Watcher that will not Run.
func (wt *Watcher) Close() error { return wt.w.Close() }

// Run calls fn with the paths that changed, at most once per quiet period
// of debounce, until ctx is done; then it stops watching.
func (wt *Watcher) Run(ctx context.Context, debounce time.Duration, fn func(changed []string)) error {
	w := wt.w
	defer w.Close()
	pending := map[string]bool{}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-w.Errors:
			slog.Warn("watching files", "err", err)
		case ev := <-w.Events:
			if ignored(ev.Name) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
					if err := addTree(w, ev.Name); err != nil {
						slog.Warn("watching a new directory", "dir", ev.Name, "err", err)
					}
				}
			}
			pending[ev.Name] = true
			timer.Reset(debounce)
		case <-timer.C:
			changed := make([]string, 0, len(pending))
			for p := range pending {
				changed = append(changed, p)
			}
			clear(pending)
			slices.Sort(changed)
			fn(changed)
		}
	}
}

// ignored skips editors' and our own temp files (dot files).
func ignored(p string) bool {
	return strings.HasPrefix(filepath.Base(p), ".")
}

func addTree(w *fsnotify.Watcher, root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p != root {
				return nil // removed while we walked
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != root && ignored(p) {
			return filepath.SkipDir
		}
		return w.Add(p)
	})
}
