package s3store_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/projectatomic/atomic-site/internal/miniotest"
	"github.com/projectatomic/atomic-site/internal/s3store"
	"github.com/projectatomic/atomic-site/internal/storetest"
)

// The suite against a real MinIO: one server, a bucket per test.
func TestConformance(t *testing.T) {
	srv := miniotest.Start(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return srv.Bucket(t, fmt.Sprintf("conformance-%d", n.Add(1)), "some/prefix")
	})
}

func TestParseDest(t *testing.T) {
	for _, tt := range []struct{ in, bucket, prefix, err string }{
		{"s3://atomic/repo", "atomic", "repo/", ""},
		{"s3://atomic", "atomic", "", ""},
		{"s3://atomic/a/b/", "atomic", "a/b/", ""},
		{"atomic/repo", "", "", "not an s3://"},
		{"s3://A_B/x", "", "", "A_B"},
	} {
		b, p, err := s3store.ParseDest(tt.in)
		if b != tt.bucket || p != tt.prefix || (err == nil) != (tt.err == "") {
			t.Errorf("ParseDest(%q) = %q, %q, %v", tt.in, b, p, err)
		}
	}
}
