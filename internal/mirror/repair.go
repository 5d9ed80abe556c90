package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/projectatomic/atomic-site/internal/ostree"
	"github.com/projectatomic/atomic-site/internal/parallel"
)

// Repair reads back every file the plan found already at the destination
// and queues again, in its phase, each whose content is not what it must
// be: an ostree object whose checksum, recomputed as ostree does, is not
// its name; any other file whose sha256 is not the source's. It finds
// what verify --deep finds, and a same-size corruption that a listing
// cannot see.
func Repair(ctx context.Context, plan *Plan, dst Store, jobs int) error {
	o, ok := dst.(Opener)
	if !ok {
		return errors.New("--repair reads the destination back, and this one cannot be read")
	}
	start := time.Now()
	queued := map[string]bool{}
	for _, files := range plan.Uploads {
		for _, f := range files {
			queued[f.Rel] = true
		}
	}
	var check []File
	for _, f := range plan.all {
		if !queued[f.Rel] {
			check = append(check, f)
		}
	}
	bad := make([]bool, len(check))
	err := parallel.Do(ctx, max(jobs, 1), len(check), func(i int) error {
		var err error
		bad[i], err = damaged(ctx, o, &check[i])
		return err
	})
	if err != nil {
		return err
	}
	for i, f := range check {
		if bad[i] {
			slog.Info("damaged at the destination: publishing it again", "key", f.Rel)
			plan.Uploads[f.Phase] = append(plan.Uploads[f.Phase], f)
			plan.Skipped--
			plan.Repaired++
		}
	}
	slog.Info("read back the destination", "files", len(check), "damaged", plan.Repaired, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// damaged reads f back from the destination and tells whether it is not
// what it must be. A read that fails is an error, not damage: the run
// stops rather than guess.
func damaged(ctx context.Context, o Opener, f *File) (bool, error) {
	r, err := o.Open(ctx, f.Rel)
	if err != nil {
		return false, fmt.Errorf("read back %s: %w", f.Rel, err)
	}
	defer r.Close()
	if _, typ, ok := ostree.ObjectChecksum(f.Rel); ok && typ != "commitmeta" {
		err := ostree.Check(f.Rel, r)
		if err != nil && ctx.Err() != nil {
			return false, ctx.Err()
		}
		return err != nil, nil
	}
	want := f.SHA256
	if want == "" {
		switch {
		case f.Data != nil:
			want, _ = dataSums(f.Data)
		case f.Path != "":
			if err := sums(f); err != nil {
				return false, err
			}
			want = f.SHA256
		default:
			return false, nil // a remote object not of ostree's: nothing to compare with
		}
	}
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return false, fmt.Errorf("read back %s: %w", f.Rel, err)
	}
	return hex.EncodeToString(h.Sum(nil)) != want, nil
}
