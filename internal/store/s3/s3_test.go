package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/store/s3"
	"github.com/projectatomic/atomic-site/internal/store/storetest"
	"github.com/projectatomic/atomic-site/internal/testkit/miniotest"
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
		b, p, err := s3.ParseDest(tt.in)
		if b != tt.bucket || p != tt.prefix || (err == nil) != (tt.err == "") {
			t.Errorf("ParseDest(%q) = %q, %q, %v", tt.in, b, p, err)
		}
	}
}

// A large file goes up multipart with parallel parts, its sha256 in its
// metadata, and reads back whole.
func TestMultipart(t *testing.T) {
	srv := miniotest.Start(t)
	st := srv.Bucket(t, "images", "pub")
	data := make([]byte, 40<<20) // above the 16 MiB part size
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	p := filepath.Join(t.TempDir(), "big.raw.xz")
	os.WriteFile(p, data, 0o644)
	sum := sha256.Sum256(data)
	ctx := context.Background()
	if err := st.Put(ctx, mirror.Upload{Key: "stable/x86_64/big.raw.xz", Path: p, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}); err != nil {
		t.Fatal(err)
	}
	var got mirror.Object
	st.List(ctx, nil, func(o mirror.Object) error { got = o; return nil })
	if got.Size != int64(len(data)) || got.SHA256 != hex.EncodeToString(sum[:]) || !strings.Contains(got.ETag, "-") {
		t.Errorf("listed %+v: want the size, the sha256 and a multipart ETag", got)
	}
	rc, err := st.Open(ctx, "stable/x86_64/big.raw.xz")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	back, _ := io.ReadAll(rc)
	if !bytes.Equal(back, data) {
		t.Error("read back differs")
	}
}
