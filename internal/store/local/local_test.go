package local_test

import (
	"context"
	"errors"
	"os"
	"path"
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
	dirs := map[storetest.Store]string{}
	storetest.Run(t, func(t *testing.T) storetest.Store {
		dir := filepath.Join(t.TempDir(), "mirror")
		s, err := local.New(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		dirs[s] = dir
		return s
	}, storetest.Options{
		MultipartSize: 1 << 20, // no parts here, but a file larger than a buffer
		// A killed write leaves its temporary file beside the key.
		Leftover: func(t *testing.T, s storetest.Store, key string) {
			p := filepath.Join(dirs[s], filepath.FromSlash(path.Dir(key)), ".mirror-tmp-0123456789abcdef")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("half an image"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
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
