package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/store"
)

// copyStore is a destination whose server copies from a source store as
// err says: nil copies, store.ErrNoServerCopy cannot, another error
// refuses the copy.
type copyStore struct {
	*memStore
	err    error
	copies int
}

func (c *copyStore) CopyChecked(ctx context.Context, src any, key string, u store.Upload) error {
	if c.err != nil {
		return c.err
	}
	c.copies++
	return c.Put(ctx, u)
}

// A file the source's store also holds is copied by the destination's
// server when it can vouch for it, fetched through this process when it
// cannot, and never fetched when the server refused the copy as not the
// signed bytes; a file with no sha256 to check is always fetched.
func TestServerCopy(t *testing.T) {
	mismatch := fmt.Errorf("s3://primary/pub/a: checksum mismatch: %w", store.ErrPermanent)
	for _, tc := range []struct {
		name            string
		err             error
		sha256          string
		copied, fetched int
		failed          bool
	}{
		{name: "the server copies", sha256: "abc1", copied: 1},
		{name: "the server cannot vouch", err: fmt.Errorf("x: %w", store.ErrNoServerCopy), sha256: "abc1", fetched: 1},
		{name: "the server refuses", err: mismatch, sha256: "abc1", failed: true},
		{name: "nothing to check a copy against", sha256: "", fetched: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := &copyStore{memStore: newMemStore(), err: tc.err}
			fetched := 0
			src := &mirror.Source{Kind: "release files", Phases: []string{"artifacts"}, Protected: map[string]bool{}, Files: []mirror.File{{
				Rel: "stable/a.qcow2", Size: 4, SHA256: tc.sha256, CopyFrom: "the source's store",
				Fetch: func(context.Context) (mirror.Fetched, error) {
					fetched++
					return mirror.Fetched{Data: []byte("data"), Size: 4}, nil
				},
			}}}
			ctx := context.Background()
			rdst := mirror.Retry(dst, store.RetryPolicy{})
			plan, err := mirror.MakePlan(ctx, src, rdst, nil)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := mirror.Execute(ctx, plan, rdst, mirror.Options{Jobs: 1})
			if tc.failed != (err != nil) || (err != nil && !errors.Is(err, mismatch)) {
				t.Fatalf("Execute: %v", err)
			}
			if dst.copies != tc.copied || fetched != tc.fetched || rep.Copied != tc.copied {
				t.Errorf("copied %d (reported %d), fetched %d; want %d copied, %d fetched", dst.copies, rep.Copied, fetched, tc.copied, tc.fetched)
			}
			if _, ok := dst.objects["stable/a.qcow2"]; ok == tc.failed {
				t.Errorf("published: %v, with a refused copy: %v", ok, tc.failed)
			}
		})
	}
}
