package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/ostree"
	"github.com/projectatomic/atomic-site/internal/store"
)

// streamStore is a destination whose listing streams keys it makes up:
// the first of them are the source's files, the rest keys the source
// lacks. Nothing is held in memory, so the process's peak RSS is the
// plan's.
type streamStore struct {
	files []mirror.File
	total int
}

func (s streamStore) List(ctx context.Context, _ func(string) bool, fn func(store.Object) error) error {
	for i := range s.total {
		o := store.Object{Size: 1000}
		if i < len(s.files) {
			o.Key, o.Size = s.files[i].Rel, s.files[i].Size
		} else {
			o.Key = objectKey(i, "filez")
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

func (streamStore) Put(context.Context, store.Upload) error { return nil }
func (streamStore) Delete(context.Context, string) error    { return nil }

func objectKey(i int, typ string) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d", i))
	return ostree.ObjectPath(fmt.Sprintf("%x", sum), typ)
}

// planOnly is the child process of the planning figure: a source of
// files files, a destination listing of keys keys, and --delete's plan.
func planOnly(files, keys int) error {
	src := &mirror.Source{Kind: "ostree", Recognized: true, Protected: map[string]bool{},
		FirstPointer: int(ostree.FirstPointer), FirstSigned: int(ostree.FirstSigned), Commits: true}
	for p := ostree.Phase(0); p < ostree.NumPhases; p++ {
		src.Phases = append(src.Phases, p.String())
	}
	for i := range files {
		src.Files = append(src.Files, mirror.File{Rel: objectKey(-1-i, "filez"), Size: 1000, Phase: int(ostree.PhaseFiles)})
	}
	start := time.Now()
	plan, err := mirror.MakePlan(context.Background(), src, streamStore{files: src.Files, total: keys},
		&mirror.DeleteOptions{Max: mirror.Limit{Percent: 100}, Grace: time.Hour, Now: time.Now()})
	if err != nil {
		return err
	}
	fmt.Printf("%d listed, %d pending, %.2f s\n", plan.Listed, len(plan.Pending.Keys), time.Since(start).Seconds())
	return nil
}

// bigFile writes a file of size bytes of seeded bytes.
func bigFile(path string, size int64) error {
	os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(5, 5))
	buf := make([]byte, 8<<20)
	for written := int64(0); written < size; written += int64(len(buf)) {
		for i := 0; i < len(buf); i += 8 {
			v := r.Uint64()
			for j := range 8 {
				buf[i+j] = byte(v >> (8 * j))
			}
		}
		if _, err := f.Write(buf); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
