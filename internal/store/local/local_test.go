package local_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/store/local"
	"github.com/projectatomic/atomic-site/internal/store/storetest"
	"github.com/projectatomic/atomic-site/internal/testkit/disk"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, err := local.New(filepath.Join(t.TempDir(), "mirror"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// A lock whose holder cannot be written is not taken: a second run would
// find a lock that names nobody.
func TestLockHolderWriteFails(t *testing.T) {
	dir := disk.Tmpfs(t, "64k")
	if err := os.MkdirAll(filepath.Join(dir, ".mirror"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(store.LockKey)), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	disk.Fill(t, dir)
	s, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l, err := s.Lock(context.Background(), dir, store.Holder{Host: "h", PID: 1, Tool: "mirror test"})
	if err == nil {
		l.Release(context.Background())
		t.Fatal("Lock succeeded on a full disk, with its holder unwritten")
	}
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), store.LockKey) {
		t.Errorf("err = %v, want no space left, naming %s", err, store.LockKey)
	}
}
