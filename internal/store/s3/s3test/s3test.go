// Package s3test does for tests and benchmarks what the mirror never does
// to a destination: create a bucket and open it to anonymous readers. It
// sits beside store/s3, the only other package that imports minio-go.
package s3test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Admin is a server's endpoint and its administrator's keys.
type Admin struct {
	Endpoint             string // http://HOST:PORT
	AccessKey, SecretKey string
}

func (a Admin) client() (*minio.Client, error) {
	u, err := url.Parse(a.Endpoint)
	if err != nil {
		return nil, err
	}
	return minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(a.AccessKey, a.SecretKey, ""),
		Secure: u.Scheme == "https",
		Region: "us-east-1",
	})
}

// CreateBucket makes the bucket unless it exists.
func (a Admin) CreateBucket(ctx context.Context, bucket string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	ok, err := c.BucketExists(ctx, bucket)
	if err != nil || ok {
		return err
	}
	return c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{})
}

// AllowAnonymousRead lets anyone GET the bucket's objects, as a public
// mirror serves ostree clients over plain HTTP.
func (a Admin) AllowAnonymousRead(ctx context.Context, bucket string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::%s/*"]}]}`, bucket)
	return c.SetBucketPolicy(ctx, bucket, policy)
}

// StartUpload begins a multipart upload of key and sends one part of it,
// never completing it: what a run killed during a large upload leaves.
func (a Admin) StartUpload(ctx context.Context, bucket, key string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	core := minio.Core{Client: c}
	id, err := core.NewMultipartUpload(ctx, bucket, key, minio.PutObjectOptions{})
	if err != nil {
		return err
	}
	part := bytes.Repeat([]byte("half an image "), 1<<10)
	_, err = core.PutObjectPart(ctx, bucket, key, id, 1, bytes.NewReader(part), int64(len(part)), minio.PutObjectPartOptions{})
	return err
}
