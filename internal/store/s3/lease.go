package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"

	"github.com/minio/minio-go/v7"

	"github.com/projectatomic/atomic-site/internal/store"
)

// The lease is written with conditional PUTs, as Terraform's S3 backend
// locks its state: If-None-Match: * to create it, If-Match: ETag to renew
// or take it over. MinIO and AWS S3 both honour them.

func (s *Store) putLease(ctx context.Context, h store.Holder, cond func(*minio.PutObjectOptions)) (string, error) {
	data, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return "", err
	}
	opts := minio.PutObjectOptions{ContentType: "application/json", CacheControl: "no-store", DisableContentSha256: true}
	cond(&opts)
	info, err := s.client.PutObject(ctx, s.bucket, s.prefix+store.LockKey, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		return "", s.leaseErr(err)
	}
	return info.ETag, nil
}

// leaseErr maps a failed precondition to store.ErrConflict. Taking the
// lease is a sync's first request: a missing bucket is said plainly.
func (s *Store) leaseErr(err error) error {
	r := minio.ToErrorResponse(err)
	if r.Code == "NoSuchBucket" {
		return fmt.Errorf("s3://%s: no such bucket (%w)", s.bucket, store.ErrPermanent)
	}
	if r.StatusCode == http.StatusPreconditionFailed || r.StatusCode == http.StatusConflict ||
		r.Code == "PreconditionFailed" || r.Code == "ConditionalRequestConflict" {
		return fmt.Errorf("%s: %w", store.LockKey, store.ErrConflict)
	}
	return classify(err)
}

// CreateLease writes the lease only if there is none.
func (s *Store) CreateLease(ctx context.Context, h store.Holder) (string, error) {
	return s.putLease(ctx, h, func(o *minio.PutObjectOptions) { o.SetMatchETagExcept("*") })
}

// ReplaceLease writes the lease only if it still has etag. A lease that is
// gone does not have it either (S3 answers If-Match on a missing key with
// 404).
func (s *Store) ReplaceLease(ctx context.Context, etag string, h store.Holder) (string, error) {
	tag, err := s.putLease(ctx, h, func(o *minio.PutObjectOptions) { o.SetMatchETag(etag) })
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", store.LockKey, store.ErrConflict)
	}
	return tag, err
}

// ReadLease reads the lease and its ETag.
func (s *Store) ReadLease(ctx context.Context) (store.Holder, string, error) {
	var h store.Holder
	o, err := s.client.GetObject(ctx, s.bucket, s.prefix+store.LockKey, minio.GetObjectOptions{})
	if err != nil {
		return h, "", classify(err)
	}
	defer o.Close()
	info, err := o.Stat()
	if err != nil {
		return h, "", classify(err)
	}
	data, err := io.ReadAll(io.LimitReader(o, 1<<16))
	if err != nil {
		return h, "", classify(err)
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return h, "", fmt.Errorf("%s: not a mirror lease: %w", store.LockKey, err)
	}
	return h, info.ETag, nil
}

// DeleteLease removes the lease.
func (s *Store) DeleteLease(ctx context.Context) error {
	return s.Delete(ctx, store.LockKey)
}
