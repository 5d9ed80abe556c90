package s3

import (
	"context"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/projectatomic/atomic-site/internal/mirror"
)

var _ mirror.Leftovers = (*Store)(nil)

// Leftovers lists the incomplete multipart uploads below the prefix: a
// killed run's, whose parts the store keeps (and AWS bills) until they
// are aborted.
func (s *Store) Leftovers(ctx context.Context) ([]mirror.Leftover, error) {
	var out []mirror.Leftover
	core := minio.Core{Client: s.client}
	for u := range s.client.ListIncompleteUploads(ctx, s.bucket, s.prefix, true) {
		if u.Err != nil {
			return nil, classify(u.Err)
		}
		l := mirror.Leftover{Key: strings.TrimPrefix(u.Key, s.prefix), ID: u.UploadID, Started: u.Initiated, Kind: "incomplete upload"}
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
		out = append(out, l)
	}
	return out, nil
}

// RemoveLeftover aborts an incomplete upload.
func (s *Store) RemoveLeftover(ctx context.Context, l mirror.Leftover) error {
	core := minio.Core{Client: s.client}
	return classify(core.AbortMultipartUpload(ctx, s.bucket, s.prefix+l.Key, l.ID))
}
