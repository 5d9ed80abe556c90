package s3_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/parallel"
	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/store/s3"
	"github.com/projectatomic/atomic-site/internal/store/s3/s3test"
	"github.com/projectatomic/atomic-site/internal/store/storetest"
	"github.com/projectatomic/atomic-site/internal/testkit/faultproxy"
	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
)

// The suite against two real S3 servers, MinIO and SeaweedFS: a server
// each, a bucket per test.
func TestConformance(t *testing.T) {
	for _, kind := range []string{s3server.MinIO, s3server.SeaweedFS} {
		t.Run(kind, func(t *testing.T) {
			srv := s3server.StartKind(t, kind)
			admin := s3test.Admin{Endpoint: srv.Endpoint, AccessKey: s3server.AccessKey, SecretKey: s3server.SecretKey}
			const prefix = "some/prefix/"
			buckets := map[storetest.Store]string{}
			var n atomic.Int64
			storetest.Run(t, func(t *testing.T) storetest.Store {
				name := fmt.Sprintf("conformance-%d", n.Add(1))
				st := srv.Bucket(t, name, prefix)
				buckets[st] = name
				return st
			}, storetest.Options{
				MultipartSize: 16 << 20, // the store's smallest part
				PublicURL: func(s storetest.Store, key string) string {
					return srv.Endpoint + "/" + buckets[s] + "/" + prefix + (&url.URL{Path: key}).EscapedPath()
				},
				Leftover: func(t *testing.T, s storetest.Store, key string) {
					if err := admin.StartUpload(context.Background(), buckets[s], prefix+key); err != nil {
						t.Fatal(err)
					}
				},
				Flaky: func(t *testing.T, s storetest.Store) storetest.Store {
					// Every later page of a listing fails once: the
					// listing must resume after the keys it delivered.
					proxy, err := faultproxy.NewMatching(srv.Endpoint, func(r *http.Request) bool {
						q := r.URL.Query()
						return q.Has("list-type") && (q.Get("continuation-token") != "" || q.Get("start-after") != "")
					})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() {
						if proxy.Injected() == 0 {
							t.Error("the flaky listing met no fault on a later page: it proves nothing")
						}
						proxy.Close()
					})
					flaky, err := s3.New("s3://"+buckets[s]+"/"+prefix, s3.Options{Endpoint: proxy.URL,
						Retry: store.RetryPolicy{Attempts: 10, Backoff: time.Millisecond}})
					if err != nil {
						t.Fatal(err)
					}
					return flaky
				},
			})
		})
	}
}

func TestParseDest(t *testing.T) {
	for _, tt := range []struct{ in, bucket, prefix, err string }{
		{"s3://atomic/repo", "atomic", "repo/", ""},
		{"s3://atomic", "atomic", "", ""},
		{"s3://atomic/a/b/", "atomic", "a/b/", ""},
		{"atomic/repo", "", "", "not an s3://"},
		{"s3://A_B/x", "", "", "A_B"},
	} {
		b, p, err := s3.ParseDest(tt.in)
		if b != tt.bucket || p != tt.prefix || (err == nil) != (tt.err == "") {
			t.Errorf("ParseDest(%q) = %q, %q, %v", tt.in, b, p, err)
		}
	}
}

// A listing in ranges stops each range's listing early, at the next
// range: every listing goroutine must end with the listing. minio-go's
// answers the cancel by sending one more entry, and left unread it
// blocked for good, holding its decoded page: a no-op resync of 100,000
// objects kept 68 MB of pages it no longer needed.
func TestListLeavesNoGoroutines(t *testing.T) {
	srv := s3server.Start(t)
	st := srv.Bucket(t, "ranges", "repo/")
	const n = 2500
	ctx := context.Background()
	err := parallel.Do(ctx, 32, n, func(i int) error {
		key := fmt.Sprintf("objects/%02x/%062x.filez", i*256/n, i)
		return st.Put(ctx, store.Upload{Key: key, Data: []byte("x"), Size: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	listed := 0
	if err := st.List(ctx, nil, func(store.Object) error { listed++; return nil }); err != nil {
		t.Fatal(err)
	}
	if listed != n {
		t.Fatalf("listed %d keys, want %d", listed, n)
	}
	listing := func() int {
		var b strings.Builder
		pprof.Lookup("goroutine").WriteTo(&b, 1)
		return strings.Count(b.String(), "minio-go/v7.(*Client).ListObjects.func1")
	}
	deadline := time.Now().Add(5 * time.Second)
	for listing() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := listing(); n > 0 {
		t.Errorf("%d minio-go listing goroutines left 5 s after the listing ended", n)
	}
}
