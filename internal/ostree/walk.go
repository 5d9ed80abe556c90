package ostree

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/projectatomic/atomic-site/internal/parallel"
)

// Objects is what a walk needs of a repository: whether an object is
// there, and the bytes of a metadata object.
type Objects interface {
	Has(key string) bool
	Read(ctx context.Context, key string) ([]byte, error)
}

// Gap is an object a ref needs that is missing or cannot be read.
type Gap struct {
	Ref    string
	Key    string
	Reason string // "missing", or why it cannot be read
}

func (g Gap) String() string {
	return fmt.Sprintf("%s: %s (needed by ref %s)", g.Key, g.Reason, g.Ref)
}

// Walk follows every ref to its commit, and from the commit through every
// dirtree and dirmeta to every file object, and returns what is missing
// or unreadable, each with a ref that needs it, sorted by ref and key. A
// ref is whole when it has no gaps: a client can pull it. Parents are not
// followed: a client pulls a ref's commit alone.
func Walk(ctx context.Context, refs map[string]string, objs Objects, jobs int) ([]Gap, error) {
	w := &walker{objs: objs, jobs: max(jobs, 1), seen: map[string]bool{}}
	for _, ref := range SortedRefs(refs) {
		if err := w.ref(ctx, ref, refs[ref]); err != nil {
			return nil, err
		}
	}
	sort.Slice(w.gaps, func(i, j int) bool {
		if w.gaps[i].Ref != w.gaps[j].Ref {
			return w.gaps[i].Ref < w.gaps[j].Ref
		}
		return w.gaps[i].Key < w.gaps[j].Key
	})
	return w.gaps, nil
}

type walker struct {
	objs Objects
	jobs int
	mu   sync.Mutex
	seen map[string]bool // dirtrees walked, by any ref
	gaps []Gap
}

func (w *walker) gap(ref, key, reason string) {
	w.mu.Lock()
	w.gaps = append(w.gaps, Gap{Ref: ref, Key: key, Reason: reason})
	w.mu.Unlock()
}

// need records key as missing unless it is there.
func (w *walker) need(ref, key string) bool {
	if w.objs.Has(key) {
		return true
	}
	w.gap(ref, key, "missing")
	return false
}

func (w *walker) read(ctx context.Context, ref, key string) []byte {
	if !w.need(ref, key) {
		return nil
	}
	data, err := w.objs.Read(ctx, key)
	if err != nil {
		w.gap(ref, key, fmt.Sprintf("cannot be read: %v", err))
		return nil
	}
	return data
}

func (w *walker) ref(ctx context.Context, ref, commit string) error {
	key := ObjectPath(commit, "commit")
	data := w.read(ctx, ref, key)
	if data == nil {
		return ctx.Err()
	}
	c, err := ParseCommit(data)
	if err != nil {
		w.gap(ref, key, err.Error())
		return nil
	}
	w.need(ref, ObjectPath(c.RootMeta, "dirmeta"))
	// Breadth first, each level's dirtrees read in parallel.
	level := []string{c.RootTree}
	for len(level) > 0 {
		var todo []string
		w.mu.Lock()
		for _, sum := range level {
			if !w.seen[sum] {
				w.seen[sum] = true
				todo = append(todo, sum)
			}
		}
		w.mu.Unlock()
		subdirs := make([][]string, len(todo))
		if err := parallel.Do(ctx, w.jobs, len(todo), func(i int) error {
			subdirs[i] = w.tree(ctx, ref, todo[i])
			return nil
		}); err != nil {
			return err
		}
		level = slices.Concat(subdirs...)
	}
	return nil
}

// tree checks one dirtree's files and dirmetas and returns its subtrees.
func (w *walker) tree(ctx context.Context, ref, sum string) []string {
	key := ObjectPath(sum, "dirtree")
	data := w.read(ctx, ref, key)
	if data == nil {
		return nil
	}
	t, err := ParseDirTree(data)
	if err != nil {
		w.gap(ref, key, err.Error())
		return nil
	}
	for _, f := range t.Files {
		w.need(ref, ObjectPath(f.Checksum, "filez"))
	}
	var subdirs []string
	for _, d := range t.Dirs {
		w.need(ref, ObjectPath(d.Meta, "dirmeta"))
		subdirs = append(subdirs, d.Tree)
	}
	return subdirs
}
