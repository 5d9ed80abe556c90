package s3_test

import (
	"bytes"
	"context"
	"crypto/md5"
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

	"github.com/projectatomic/atomic-site/internal/store"
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
	if err := st.Put(ctx, store.Upload{Key: "stable/x86_64/big.raw.xz", Path: p, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}); err != nil {
		t.Fatal(err)
	}
	var got store.Object
	st.List(ctx, nil, func(o store.Object) error { got = o; return nil })
	if got.Size != int64(len(data)) || !strings.Contains(got.ETag, "-") {
		t.Errorf("listed %+v: want the size and a multipart ETag", got)
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

// A destination larger than one page is listed through its partitions,
// from after the keys the first page delivered: every key exactly once,
// with metadata where needSum asks. A small one is listed in one request.
func TestListPartitions(t *testing.T) {
	srv := miniotest.Start(t)
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("x"), 0o644)
	sum := sha256.Sum256([]byte("x"))
	m := md5.Sum([]byte("x"))
	md5x := hex.EncodeToString(m[:])
	for _, n := range []int{30, 1200} {
		st := srv.Bucket(t, fmt.Sprintf("list-%d", n), "repo")
		want := map[string]bool{}
		keys := []string{"config", "summary", "refs/heads/fedora/28/x86_64/atomic-host", "a-first"}
		for i := range n {
			keys = append(keys, fmt.Sprintf("objects/%02x/%062d.filez", i%256, i))
		}
		for _, k := range keys {
			want[k] = true
			if err := st.Put(ctx, store.Upload{Key: k, Path: p, Size: 1, SHA256: hex.EncodeToString(sum[:])}); err != nil {
				t.Fatal(err)
			}
		}
		got := map[string]int{}
		needSum := func(k string) bool { return !strings.HasPrefix(k, "objects/") }
		err := st.List(ctx, needSum, func(o store.Object) error {
			got[o.Key]++
			if o.Key == "summary" && o.SHA256 == "" && strings.Trim(o.ETag, `"`) != md5x {
				t.Errorf("%d keys: summary listed without its sha256 or MD5: %+v", n, o)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for k := range want {
			if got[k] != 1 {
				t.Errorf("%d keys: %s listed %d times", n, k, got[k])
			}
		}
		if len(got) != len(want) {
			t.Errorf("%d keys: listed %d keys, want %d", n, len(got), len(want))
		}
	}
}
