package mirror

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/projectatomic/atomic-site/internal/store"
)

// Leftovers is a destination that can find and remove what killed runs
// left behind. Some stores (MinIO) list incomplete uploads only for one
// key at a time: candidates are the keys an upload may have been left
// under (the source's large files), looked at one by one where a listing
// of the whole prefix does not show them.
type Leftovers interface {
	Leftovers(ctx context.Context, candidates []store.Object) ([]store.Leftover, error)
	RemoveLeftover(ctx context.Context, l store.Leftover) error
}

// Candidates are a source's files as keys an upload may be left under.
func Candidates(files []File) []store.Object {
	out := make([]store.Object, 0, len(files))
	for _, f := range files {
		out = append(out, store.Object{Key: f.Rel, Size: f.Size})
	}
	return out
}

// Cleaned counts what a run removed of earlier runs' leftovers.
type Cleaned struct {
	Uploads   int   `json:"incomplete_uploads_aborted"`
	TempFiles int   `json:"temp_files_removed"`
	Bytes     int64 `json:"leftover_bytes"`
}

// CleanLeftovers removes what runs before this one left behind. It must be
// called holding the destination's lease, before this run writes anything:
// then every leftover started before the lease is a dead run's.
func CleanLeftovers(ctx context.Context, dst any, before time.Time, candidates []store.Object) (Cleaned, error) {
	var c Cleaned
	lo, ok := dst.(Leftovers)
	if !ok {
		return c, nil
	}
	found, err := lo.Leftovers(ctx, candidates)
	if err != nil {
		return c, fmt.Errorf("find leftovers: %w", err)
	}
	for _, l := range found {
		if !l.Started.Before(before) {
			continue
		}
		if err := lo.RemoveLeftover(ctx, l); err != nil {
			return c, fmt.Errorf("remove %s %s: %w", l.Kind, l.Key, err)
		}
		slog.Info("removed a leftover of an earlier run", "kind", l.Kind, "key", l.Key, "bytes", l.Size, "started", l.Started)
		if l.ID != "" {
			c.Uploads++
		} else {
			c.TempFiles++
		}
		c.Bytes += l.Size
	}
	return c, nil
}
