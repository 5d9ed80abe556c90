package mirror_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/store"
)

// slowStore answers every Put after a round trip, as a far server does.
type slowStore struct {
	*memStore
	rtt      time.Duration
	inFlight atomic.Int64
	pacer    *mirror.Pacer
	throttle atomic.Bool
}

func (s *slowStore) Put(ctx context.Context, u store.Upload) error {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	if s.throttle.Load() && s.pacer != nil {
		s.pacer.Throttled()
	}
	time.Sleep(s.rtt)
	return s.memStore.Put(ctx, u)
}

// Against round trips of 20 ms the pacer grows well past its start; told
// the store is throttling, it never does.
func TestPacerGrowsWithLatency(t *testing.T) {
	for _, tt := range []struct {
		files    int
		rtt      time.Duration
		throttle bool
	}{
		{1500, 20 * time.Millisecond, false},
		{300, 5 * time.Millisecond, true},
	} {
		dir := fakeRepo(t)
		for i := range tt.files {
			writeFile(t, dir, "objects/ee/"+fmtKey(i)+".filez", "x")
		}
		pacer := mirror.NewPacer(256)
		pacer.Interval = 50 * time.Millisecond
		dst := &slowStore{memStore: newMemStore(), rtt: tt.rtt, pacer: pacer}
		dst.throttle.Store(tt.throttle)
		if _, err := mirror.Execute(context.Background(), plan(t, dir, dst, false), dst, mirror.Options{Pacer: pacer}); err != nil {
			t.Fatal(err)
		}
		switch grew := pacer.Peak() > pacer.Start; {
		case !tt.throttle && !grew:
			t.Errorf("peak %d uploads at once: never grew past the start (%d)", pacer.Peak(), pacer.Start)
		case tt.throttle && grew:
			t.Errorf("peak %d uploads at once although every request was throttled", pacer.Peak())
		}
	}
}

func fmtKey(i int) string { return fmt.Sprintf("%062d", i) }

func writeFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
