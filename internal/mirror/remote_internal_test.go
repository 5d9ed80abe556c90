package mirror

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
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

// A server that sends part of a file and then nothing: the fetch gives up
// after stallAfter without a byte, says so, and the retry gets the file.
func TestFetchStalled(t *testing.T) {
	defer func(d time.Duration) { stallAfter = d }(stallAfter)
	stallAfter = 200 * time.Millisecond
	data := []byte("the whole content of the file")
	var calls atomic.Int32
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		if calls.Add(1) == 1 {
			w.Write(data[:5])
			w.(http.Flusher).Flush()
			select { // hold the connection open, sending nothing
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.Write(data)
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL + "/")
	var reported error
	r := &remoteRepo{t: &httpTransport{base: base, client: srv.Client()}, retry: store.RetryPolicy{Attempts: 2, Backoff: time.Millisecond,
		Report: func(op, key string, attempt int, err error, wait time.Duration) { reported = err }}}
	start := time.Now()
	got, err := r.get(context.Background(), "f", 1<<20)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("got %q, %v", got, err)
	}
	if reported == nil || !strings.Contains(reported.Error(), "nothing received for 200ms") {
		t.Errorf("the stalled try failed with %v", reported)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v", took)
	}
}

// stallingStore serves a file whose first read gives a few bytes and whose
// next blocks until the request is given up; later opens serve it whole.
type stallingStore struct {
	data  []byte
	opens atomic.Int32
}

func (s *stallingStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if s.opens.Add(1) > 1 {
		return io.NopCloser(bytes.NewReader(s.data)), nil
	}
	return io.NopCloser(&stallingReader{ctx: ctx, head: s.data[:5]}), nil
}

type stallingReader struct {
	ctx  context.Context
	head []byte
}

func (r *stallingReader) Read(p []byte) (int, error) {
	if len(r.head) > 0 {
		n := copy(p, r.head)
		r.head = r.head[n:]
		return n, nil
	}
	<-r.ctx.Done()
	return 0, r.ctx.Err()
}

// The same for a bucket as the source: a read that blocks is given up.
func TestFetchStalledStore(t *testing.T) {
	defer func(d time.Duration) { stallAfter = d }(stallAfter)
	stallAfter = 200 * time.Millisecond
	st := &stallingStore{data: []byte("the whole content of the file")}
	var reported error
	r := &remoteRepo{t: storeTransport{st, "s3://b/p/"}, retry: store.RetryPolicy{Attempts: 2, Backoff: time.Millisecond,
		Report: func(op, key string, attempt int, err error, wait time.Duration) { reported = err }}}
	got, err := r.get(context.Background(), "f", 1<<20)
	if err != nil || !bytes.Equal(got, st.data) {
		t.Fatalf("got %q, %v", got, err)
	}
	if reported == nil || !strings.Contains(reported.Error(), "s3://b/p/f: nothing received for 200ms") {
		t.Errorf("the stalled try failed with %v", reported)
	}
}
