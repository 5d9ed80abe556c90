package s3

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/projectatomic/atomic-site/internal/store"
)

// stagingDir is where a server-side copy waits, below the mirror's own
// directory, while the server's sha256 of it is compared with the one it
// must have. Clients find nothing there: no ref, manifest or summary
// names it.
const stagingDir = store.StateDir + "staging/"

// maxCopy is the largest object one CopyObject request copies (S3's
// limit). A larger one is copied in parts, and the server's checksum of
// it is then one of its parts' checksums, not its sha256.
const maxCopy = 5 << 30

// CopyChecked copies key of src, another bucket (or prefix) on this
// store's server, to u.Key, without the bytes passing through this
// process, and publishes it only once the server vouches that its sha256
// is u.SHA256. The copy goes first to a staging key below .mirror/; the
// server computes the sha256 of what it writes there; only a copy whose
// sha256 is u.SHA256 is copied on to u.Key, with u's headers, and only
// while the staged copy is still the one checked (its ETag). A copy that
// does not match (other bytes, or another size) is refused as a checksum
// mismatch naming src's object, and nothing reaches u.Key.
//
// It returns an error wrapping store.ErrNoServerCopy when the copy
// cannot be made or checked so: src is not a bucket on this server, the
// object is larger than one copy request takes, or the server computes
// no sha256 of a copy. The caller fetches it then.
func (s *Store) CopyChecked(ctx context.Context, src any, key string, u store.Upload) error {
	from, ok := src.(*Store)
	switch {
	case !ok || from.endpoint != s.endpoint:
		return fmt.Errorf("%s: on another server: %w", key, store.ErrNoServerCopy)
	case u.SHA256 == "" || u.Size < 0 || u.Size > maxCopy:
		return fmt.Errorf("%s: no sha256 to check, or too large for one copy: %w", key, store.ErrNoServerCopy)
	}
	srcName := "s3://" + from.bucket + "/" + from.prefix + key
	var nonce [8]byte
	rand.Read(nonce[:])
	staged := s.prefix + stagingDir + hex.EncodeToString(nonce[:]) + "/" + u.Key
	defer func() {
		// Never left behind: the next run's leftover sweep removes it
		// if this process dies first.
		s.client.RemoveObject(context.WithoutCancel(ctx), s.bucket, staged, minio.RemoveObjectOptions{})
	}()
	info, err := s.client.CopyObject(ctx,
		minio.CopyDestOptions{Bucket: s.bucket, Object: staged, ChecksumType: minio.ChecksumSHA256},
		minio.CopySrcOptions{Bucket: from.bucket, Object: from.prefix + key})
	if err != nil {
		return fmt.Errorf("copy %s: %w", srcName, classify(err))
	}
	got, err := s.serverSHA256(ctx, staged)
	if err != nil {
		return err
	}
	switch {
	case got == "":
		return fmt.Errorf("%s: the server computed no sha256 of a copy: %w", s.endpoint, store.ErrNoServerCopy)
	case got != u.SHA256:
		return fmt.Errorf("%s: checksum mismatch: the server's sha256 of its copy is %s, want %s: %w", srcName, got, u.SHA256, store.ErrPermanent)
	}
	dst := minio.CopyDestOptions{Bucket: s.bucket, Object: s.prefix + u.Key, ChecksumType: minio.ChecksumSHA256,
		ContentType: u.ContentType, CacheControl: u.CacheControl,
		ReplaceMetadata: true, UserMetadata: map[string]string{"sha256": u.SHA256}}
	if _, err := s.client.CopyObject(ctx, dst, minio.CopySrcOptions{Bucket: s.bucket, Object: staged, MatchETag: info.ETag}); err != nil {
		return fmt.Errorf("copy %s: %w", u.Key, classify(err))
	}
	if got, err := s.serverSHA256(ctx, s.prefix+u.Key); err != nil || got != u.SHA256 {
		// The staged copy matched: only the server failing gets here.
		slog.Error("a checked copy changed on its second server-side copy; removed", "key", u.Key, "sha256", got, "err", err)
		s.client.RemoveObject(context.WithoutCancel(ctx), s.bucket, s.prefix+u.Key, minio.RemoveObjectOptions{})
		return fmt.Errorf("%s: the server's sha256 of the published copy is %q, want %s", u.Key, got, u.SHA256)
	}
	return nil
}

// serverSHA256 is the sha256 the server holds of object name, in hex: ""
// if it holds none, or only one of parts.
func (s *Store) serverSHA256(ctx context.Context, name string) (string, error) {
	st, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{Checksum: true})
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", name, classify(err))
	}
	if st.ChecksumSHA256 == "" || strings.Contains(st.ChecksumSHA256, "-") {
		return "", nil
	}
	sum, err := base64.StdEncoding.DecodeString(st.ChecksumSHA256)
	if err != nil || len(sum) != 32 {
		return "", nil
	}
	return hex.EncodeToString(sum), nil
}
