package s3_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
)

func hexSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// A checked server-side copy: the object comes across with the
// destination's headers only when the server's sha256 of its copy is the
// one wanted (also of a source uploaded in parts); a copy of other bytes
// is refused, naming the source, and nothing reaches the key; nothing is
// left in the staging area either way. A bucket on another server is not
// copied from.
func TestCopyChecked(t *testing.T) {
	srv := s3server.Start(t)
	src := srv.Bucket(t, "upstream", "pub")
	dst := srv.Bucket(t, "downstream", "mirror")
	small := bytes.Repeat([]byte("image "), 1000)
	large := bytes.Repeat([]byte("a large image "), 2<<20) // 28 MiB: multipart
	ctx := t.Context()
	for key, data := range map[string][]byte{"small.qcow2": small, "large.qcow2": large} {
		if err := src.Put(ctx, store.Upload{Key: key, Data: data, Size: int64(len(data))}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(key string) ([]byte, error) {
		rc, err := dst.Open(ctx, key)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	for key, data := range map[string][]byte{"small.qcow2": small, "large.qcow2": large} {
		u := store.Upload{Key: "stable/" + key, Size: int64(len(data)), SHA256: hexSHA256(data), ContentType: "application/octet-stream", CacheControl: "public, max-age=31536000, immutable"}
		if err := dst.CopyChecked(ctx, src, key, u); err != nil {
			t.Fatalf("copy %s: %v", key, err)
		}
		if got, err := read(u.Key); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s after the copy: %d bytes, %v", u.Key, len(got), err)
		}
	}
	var listed []store.Object
	dst.List(ctx, nil, func(o store.Object) error { listed = append(listed, o); return nil })
	for _, o := range listed {
		if strings.HasPrefix(o.Key, store.StateDir) {
			t.Errorf("left in the staging area: %s", o.Key)
		}
	}

	var err error
	u := store.Upload{Key: "stable/bad.qcow2", Size: int64(len(small)), SHA256: hexSHA256(large)}
	err = dst.CopyChecked(ctx, src, "small.qcow2", u)
	if err == nil || !strings.Contains(err.Error(), "s3://upstream/pub/small.qcow2: checksum mismatch") || errors.Is(err, store.ErrNoServerCopy) {
		t.Fatalf("a copy of other bytes: %v", err)
	}
	if _, err := read(u.Key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused copy reached its key: %v", err)
	}

	// A run killed between its copies leaves a staged copy: the next
	// run's leftover sweep finds and removes it.
	staged := store.StateDir + "staging/0123456789abcdef/stable/small.qcow2"
	if err := dst.Put(ctx, store.Upload{Key: staged, Data: small, Size: int64(len(small))}); err != nil {
		t.Fatal(err)
	}
	left, err := dst.Leftovers(ctx, nil)
	if err != nil || len(left) != 1 || left[0].Key != staged || left[0].Kind != "staged copy" {
		t.Fatalf("leftovers: %+v, %v", left, err)
	}
	if err := dst.RemoveLeftover(ctx, left[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := read(staged); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a removed staged copy: %v", err)
	}

	other := s3server.Start(t).Bucket(t, "elsewhere", "pub")
	if err := other.CopyChecked(ctx, src, "small.qcow2", store.Upload{Key: "x", Size: int64(len(small)), SHA256: hexSHA256(small)}); !errors.Is(err, store.ErrNoServerCopy) {
		t.Errorf("a copy from another server: %v", err)
	}
}

// A server that copies but computes no sha256 of the copy (SeaweedFS)
// cannot vouch for it: nothing reaches the key, nothing stays staged, and
// the caller is told to fetch the object instead.
func TestCopyCheckedNeedsServerSHA256(t *testing.T) {
	srv := s3server.StartKind(t, s3server.SeaweedFS)
	src := srv.Bucket(t, "upstream", "pub")
	dst := srv.Bucket(t, "downstream", "mirror")
	data := bytes.Repeat([]byte("image "), 1000)
	if err := src.Put(t.Context(), store.Upload{Key: "a.qcow2", Data: data, Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	err := dst.CopyChecked(t.Context(), src, "a.qcow2", store.Upload{Key: "a.qcow2", Size: int64(len(data)), SHA256: hexSHA256(data)})
	if !errors.Is(err, store.ErrNoServerCopy) {
		t.Fatalf("a copy the server computed no sha256 of: %v", err)
	}
	dst.List(t.Context(), nil, func(o store.Object) error {
		t.Errorf("left at the destination: %s", o.Key)
		return nil
	})
}
