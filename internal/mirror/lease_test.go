package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/store"
)

// leaseObject is a store's lease object with ETags, honouring conditions
// unless ignore is set (a store that ignores them).
type leaseObject struct {
	mu     sync.Mutex
	h      *store.Holder
	etag   int
	ignore bool
}

func (o *leaseObject) put(cond func() bool, h store.Holder) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.ignore && !cond() {
		return "", store.ErrConflict
	}
	o.h = &h
	o.etag++
	return fmt.Sprint(o.etag), nil
}

func (o *leaseObject) CreateLease(_ context.Context, h store.Holder) (string, error) {
	return o.put(func() bool { return o.h == nil }, h)
}

func (o *leaseObject) ReplaceLease(_ context.Context, etag string, h store.Holder) (string, error) {
	return o.put(func() bool { return o.h != nil && fmt.Sprint(o.etag) == etag }, h)
}

func (o *leaseObject) ReadLease(context.Context) (store.Holder, string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.h == nil {
		return store.Holder{}, "", fs.ErrNotExist
	}
	return *o.h, fmt.Sprint(o.etag), nil
}

func (o *leaseObject) DeleteLease(context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.h = nil
	return nil
}

func TestLease(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	me := store.Holder{Host: "here", PID: 10, Tool: "mirror test"}
	for _, tt := range []struct {
		name    string
		held    *store.Holder
		ignore  bool
		alive   bool
		wantErr error
	}{
		{name: "free"},
		{name: "held by a live run elsewhere", held: &store.Holder{Host: "there", PID: 1, Expires: now.Add(time.Minute)}, wantErr: store.ErrLocked},
		{name: "held by a live run here", held: &store.Holder{Host: "here", PID: 2, Expires: now.Add(time.Minute)}, alive: true, wantErr: store.ErrLocked},
		{name: "expired", held: &store.Holder{Host: "there", PID: 1, Expires: now.Add(-time.Second)}},
		{name: "dead run of this host", held: &store.Holder{Host: "here", PID: 2, Expires: now.Add(time.Minute)}},
		{name: "store ignores conditions", ignore: true, wantErr: mirror.ErrNoConditionalWrites},
	} {
		t.Run(tt.name, func(t *testing.T) {
			obj := &leaseObject{h: tt.held, ignore: tt.ignore}
			opts := mirror.LeaseOptions{Now: func() time.Time { return now }, Alive: func(int) bool { return tt.alive }}
			_, l, err := mirror.Lock(ctx, obj, "s3://b/p", me, opts)
			if err == nil {
				if err = l.Ready(ctx); err != nil {
					l.Release(ctx)
				}
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Lock: %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if errors.Is(err, store.ErrLocked) && !strings.Contains(err.Error(), "host "+tt.held.Host) {
					t.Errorf("%v does not name the holder", err)
				}
				if tt.ignore && obj.h != nil {
					t.Error("a lease left on a store that ignores conditions")
				}
				return
			}
			if obj.h == nil || obj.h.PID != me.PID || !obj.h.Expires.Equal(now.Add(mirror.DefaultLease)) {
				t.Errorf("lease = %+v", obj.h)
			}
			if err := l.Check(ctx); err != nil {
				t.Error(err)
			}
			if err := l.Release(ctx); err != nil || obj.h != nil {
				t.Errorf("Release: %v, lease %+v", err, obj.h)
			}
		})
	}
}

// A lease removed by hand is lost: Check says so and the run's context
// ends with ErrLeaseLost; renewal does the same by itself.
func TestLeaseLost(t *testing.T) {
	obj := &leaseObject{}
	ctx, l, err := mirror.Lock(context.Background(), obj, "s3://b/p", store.Holder{Host: "here"}, mirror.LeaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	obj.DeleteLease(ctx)
	if err := l.Check(context.Background()); !errors.Is(err, mirror.ErrLeaseLost) {
		t.Errorf("Check = %v", err)
	}
	if !errors.Is(context.Cause(ctx), mirror.ErrLeaseLost) {
		t.Errorf("run context cause %v", context.Cause(ctx))
	}
	l.Release(context.Background())

	obj = &leaseObject{}
	ctx, l, err = mirror.Lock(context.Background(), obj, "s3://b/p", store.Holder{Host: "here"}, mirror.LeaseOptions{Duration: 60 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	time.Sleep(30 * time.Millisecond) // a few renewals
	if ctx.Err() != nil {
		t.Fatalf("lease lost while renewed: %v", context.Cause(ctx))
	}
	obj.DeleteLease(ctx)
	<-ctx.Done() // the next renewal finds it gone
	if !errors.Is(context.Cause(ctx), mirror.ErrLeaseLost) {
		t.Errorf("cause %v", context.Cause(ctx))
	}
}
