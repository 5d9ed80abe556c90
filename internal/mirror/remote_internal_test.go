package mirror

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/store"
)

// A large file from a server that serves ranges is fetched in parallel
// parts after the first bytes, put together in place and checked whole.
func TestFetchRanges(t *testing.T) {
	defer func(m, p int64) { rangeMin, rangePart = m, p }(rangeMin, rangePart)
	rangeMin, rangePart = 1<<20, 1<<20
	data := make([]byte, 7<<20+12345)
	rand.NewChaCha8([32]byte{3}).Read(data)
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])
	var ranges atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			ranges.Add(1)
		}
		http.ServeContent(w, r, "big", time.Time{}, bytes.NewReader(data))
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL + "/")
	r := &remoteRepo{t: &httpTransport{base: base, client: srv.Client()}, retry: store.RetryPolicy{Attempts: 2}, spool: t.TempDir()}
	f, err := r.fetch(context.Background(), "big", func(rd io.Reader) error {
		h := sha256.New()
		io.Copy(h, rd)
		return sameSHA256(hex.EncodeToString(h.Sum(nil)), want)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Done()
	got, err := os.ReadFile(f.Path)
	if err != nil || !bytes.Equal(got, data) || f.Size != int64(len(data)) {
		t.Fatalf("fetched %d bytes (%v), want the %d served", len(got), err, len(data))
	}
	// 4 MiB come with the first request; the remaining 3 MiB and change
	// in 1 MiB parts.
	if n := ranges.Load(); n != 4 {
		t.Errorf("%d range requests, want 4", n)
	}
}

// An upstream that answers 503 slows the run's pacer, as a destination
// that does; the fetch succeeds on the next try.
func TestFetchThrottledSlowsThePacer(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "slow down", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("content"))
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL + "/")
	r := &remoteRepo{t: &httpTransport{base: base, client: srv.Client()}, retry: store.RetryPolicy{Attempts: 2, Backoff: time.Millisecond}}
	p := NewPacer(16)
	ctx := withThrottle(context.Background(), p)
	if _, err := r.fetch(ctx, "x", func(io.Reader) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if !p.throttled.Load() {
		t.Error("a 503 from the upstream did not reach the pacer")
	}
}
