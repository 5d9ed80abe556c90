package s3

import (
	"context"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/projectatomic/atomic-site/internal/store"
)

// Leftovers lists the incomplete multipart uploads below the prefix (a
// killed run's, whose parts the store keeps, and AWS bills, until they
// are aborted) and the server-side copies a killed run left staged. AWS lists them for the whole prefix; MinIO only for one
// key at a time, so each candidate large enough to have gone multipart
// is asked after too.
func (s *Store) Leftovers(ctx context.Context, candidates []store.Object) ([]store.Leftover, error) {
	seen := map[string]bool{}
	var out []store.Leftover
	list := func(prefix string) error {
		for u := range s.client.ListIncompleteUploads(ctx, s.bucket, prefix, true) {
			if u.Err != nil {
				return classify(u.Err)
			}
			if !seen[u.UploadID] && strings.HasPrefix(u.Key, s.prefix) {
				seen[u.UploadID] = true
				out = append(out, s.leftover(ctx, u))
			}
		}
		return nil
	}
	if err := list(s.prefix); err != nil {
		return nil, err
	}
	// A server-side copy staged by a run that died before it removed it.
	err := s.listObjects(ctx, minio.ListObjectsOptions{Prefix: s.prefix + stagingDir, Recursive: true}, func(o minio.ObjectInfo) error {
		out = append(out, store.Leftover{Key: strings.TrimPrefix(o.Key, s.prefix), Size: o.Size, Started: o.LastModified, Kind: "staged copy"})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, c := range candidates {
		if uint64(c.Size) >= s.partSize {
			if err := list(s.prefix + c.Key); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (s *Store) leftover(ctx context.Context, u minio.ObjectMultipartInfo) store.Leftover {
	core := minio.Core{Client: s.client}
	l := store.Leftover{Key: strings.TrimPrefix(u.Key, s.prefix), ID: u.UploadID, Started: u.Initiated, Kind: "incomplete upload"}
	// The size of the parts held, for the report.
	for marker := 0; ; {
		parts, err := core.ListObjectParts(ctx, s.bucket, u.Key, u.UploadID, marker, 1000)
		if err != nil {
			break // the size is for the report only
		}
		for _, p := range parts.ObjectParts {
			l.Size += p.Size
		}
		if !parts.IsTruncated {
			break
		}
		marker = parts.NextPartNumberMarker
	}
	return l
}

// RemoveLeftover aborts an incomplete upload, or removes a staged copy.
func (s *Store) RemoveLeftover(ctx context.Context, l store.Leftover) error {
	if l.ID == "" {
		return classify(s.client.RemoveObject(ctx, s.bucket, s.prefix+l.Key, minio.RemoveObjectOptions{}))
	}
	core := minio.Core{Client: s.client}
	return classify(core.AbortMultipartUpload(ctx, s.bucket, s.prefix+l.Key, l.ID))
}
