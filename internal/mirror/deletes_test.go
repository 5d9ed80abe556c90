package mirror_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/store/local"
)

func TestParseLimit(t *testing.T) {
	for _, tc := range []struct {
		in    string
		total int
		max   int
		err   bool
	}{
		{"10%", 57, 5, false},
		{"100%", 57, 57, false},
		{"0.5%", 1000, 5, false},
		{"500", 57, 500, false},
		{"0", 57, 0, false},
		{"0%", 0, 0, true},
		{"101%", 0, 0, true},
		{"-1", 0, 0, true},
		{"ten", 0, 0, true},
		{"", 0, 0, true},
		{"NaN%", 0, 0, true},
	} {
		l, err := mirror.ParseLimit(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParseLimit(%q): err %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && l.Max(tc.total) != tc.max {
			t.Errorf("ParseLimit(%q).Max(%d) = %d, want %d", tc.in, tc.total, l.Max(tc.total), tc.max)
		}
	}
}

// failDeletes fails every Delete after the first n, as a run killed while
// deleting would stop.
type failDeletes struct {
	*local.Store
	n int
}

func (f *failDeletes) Delete(ctx context.Context, key string) error {
	if f.n == 0 {
		return errors.New("killed")
	}
	f.n--
	return f.Store.Delete(ctx, key)
}

func TestDeleteGrace(t *testing.T) {
	ctx := context.Background()
	dir := fakeRepo(t)
	dstDir := t.TempDir()
	dst, err := local.New(dstDir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	sync := func(now time.Time, grace time.Duration, st mirror.Store) (*mirror.Plan, *mirror.Report, error) {
		t.Helper()
		p := planWith(t, dir, st, &mirror.DeleteOptions{Max: mirror.Limit{Percent: 100}, Grace: grace, Now: now})
		rep, err := mirror.Execute(ctx, p, st, mirror.Options{Jobs: 4})
		return p, rep, err
	}
	exists := func(key string) bool {
		_, err := os.Stat(filepath.Join(dstDir, filepath.FromSlash(key)))
		return err == nil
	}
	if _, _, err := sync(t0, time.Hour, dst); err != nil {
		t.Fatal(err)
	}

	// Three objects leave the source.
	var gone []string
	for _, k := range []string{"objects/4d/b142eae56c551e9cf89df81dc66d713d1a5bf7ac12f307a3abe641cc71e5c2.commitmeta", "deltas/ae/x-y/1", "deltas/ae/x-y/0"} {
		os.Remove(filepath.Join(dir, filepath.FromSlash(k)))
		gone = append(gone, k)
	}
	p, rep, err := sync(t0, time.Hour, dst)
	if err != nil || len(p.Delete) != 0 || rep.Pending != 3 {
		t.Fatalf("first run after: delete %v, pending %d, err %v; want nothing deleted, 3 pending", p.Delete, rep.Pending, err)
	}
	for _, k := range gone {
		if !exists(k) {
			t.Errorf("%s deleted before its grace period", k)
		}
	}
	if !exists(mirror.PendingKey) {
		t.Fatal("no pending list written")
	}

	// Half an hour on: still waiting, and the first-seen time is kept.
	p, _, err = sync(t0.Add(30*time.Minute), time.Hour, dst)
	if err != nil || len(p.Delete) != 0 || !p.Pending.Keys[gone[0]].Equal(t0) {
		t.Fatalf("after 30m: delete %v, first seen %v, err %v", p.Delete, p.Pending.Keys[gone[0]], err)
	}

	// Past the grace, a run killed after one deletion: the list still
	// covers everything that is missing.
	_, _, err = sync(t0.Add(61*time.Minute), time.Hour, &failDeletes{Store: dst, n: 1})
	if err == nil {
		t.Fatal("a run killed while deleting reported success")
	}
	left := 0
	for _, k := range gone {
		if exists(k) {
			left++
		}
	}
	if left != 2 || !exists(mirror.PendingKey) {
		t.Fatalf("after the killed run: %d of 3 left, pending list there %v; want 2 left and the list", left, exists(mirror.PendingKey))
	}
	data, _ := os.ReadFile(filepath.Join(dstDir, filepath.FromSlash(mirror.PendingKey)))
	for _, k := range gone {
		if !strings.Contains(string(data), k) {
			t.Errorf("pending list lost %s:\n%s", k, data)
		}
	}

	// The next run finishes the job and removes the list.
	p, rep, err = sync(t0.Add(62*time.Minute), time.Hour, dst)
	if err != nil || rep.Deleted != 2 || rep.Pending != 0 {
		t.Fatalf("final run: deleted %d, pending %d, err %v; want 2 deleted, none pending", rep.Deleted, rep.Pending, err)
	}
	if left := slices.DeleteFunc(slices.Clone(gone), func(k string) bool { return slices.Contains(p.Delete, k) }); len(p.Delete) != 2 || len(left) != 1 {
		t.Errorf("final run planned to delete %q; want the two keys the killed run left, of %q", p.Delete, gone)
	}
	if slices.ContainsFunc(gone, exists) || exists(mirror.PendingKey) {
		t.Error("after the grace: a deleted key or the pending list is still there")
	}
}
