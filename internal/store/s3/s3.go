// Package s3 is a mirror destination in S3-compatible storage, with
// minio-go. It is the only package that imports minio-go.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/projectatomic/atomic-site/internal/parallel"
	"github.com/projectatomic/atomic-site/internal/store"
)

// Store is a bucket and a key prefix.
type Store struct {
	client   *minio.Client
	endpoint string // the server's URL, to tell a bucket on the same server
	bucket   string
	prefix   string // "" or ending in "/"
	// metadataListing is true where the listing carries user metadata
	// (MinIO's extension); elsewhere mutable files fall back to ETags.
	metadataListing bool
	partSize        uint64
	partThreads     uint
	retry           store.RetryPolicy
}

// Options configure a Store.
type Options struct {
	// Endpoint is the server's URL, such as http://127.0.0.1:9000; empty
	// means AWS S3.
	Endpoint string
	Region   string
	// PartSize and PartThreads tune multipart uploads of large files.
	PartSize    uint64
	PartThreads uint
	// MaxConns bounds the connections kept open to the server.
	MaxConns int
	// Retry is how each listing request is tried again after a transient
	// failure, resuming after the last key delivered (the zero policy
	// tries once). Other calls are the caller's to retry.
	Retry store.RetryPolicy
}

// ParseDest splits "s3://BUCKET/PREFIX".
func ParseDest(dest string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(dest, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3://BUCKET/PREFIX destination", dest)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if err := s3utils.CheckValidBucketNameStrict(bucket); err != nil {
		return "", "", fmt.Errorf("%s: %w", dest, err)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return bucket, prefix, nil
}

// New connects to a bucket. Credentials come from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, the shared credentials file, or the instance role,
// in that order, as minio-go's chain finds them.
func New(dest string, opts Options) (*Store, error) {
	bucket, prefix, err := ParseDest(dest)
	if err != nil {
		return nil, err
	}
	endpoint := opts.Endpoint
	if endpoint == "" {
		endpoint = "https://s3.amazonaws.com"
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--endpoint %q: want http(s)://HOST[:PORT]", endpoint)
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
		&credentials.IAM{Client: &http.Client{Transport: http.DefaultTransport}},
	})
	if v, err := creds.GetWithContext(nil); err == nil && v.SignerType.IsAnonymous() {
		slog.Warn("no credentials found (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws/credentials, an instance role): trying anonymous access", "dest", dest)
	}
	tr, err := minio.DefaultTransport(u.Scheme == "https")
	if err != nil {
		return nil, err
	}
	// An endpoint that does not answer is said so in seconds, not after
	// a 30 s dial timeout per try.
	tr.DialContext = (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	if opts.MaxConns > 0 {
		tr.MaxIdleConnsPerHost = opts.MaxConns
		tr.MaxIdleConns = opts.MaxConns
	}
	region := opts.Region
	if region == "" && !s3utils.IsAmazonEndpoint(*u) {
		// S3-compatible servers take any region; naming one spares a
		// GetBucketLocation round trip before the first request.
		region = "us-east-1"
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:     creds,
		Secure:    u.Scheme == "https",
		Region:    region,
		Transport: tr,
		// The server checks a CRC32C trailer instead of us hashing every
		// body for the signature: integrity at less cost.
		TrailingHeaders: true,
		// One try per request here: the caller's retry policy tries
		// again, and logs each retry with its reason (minio-go's own ten
		// silent retries made an unreachable endpoint look hung for 17 s).
		MaxRetries: 1,
	})
	if err != nil {
		return nil, err
	}
	s := &Store{
		client: client, endpoint: u.String(), bucket: bucket, prefix: prefix,
		metadataListing: !s3utils.IsAmazonEndpoint(*u),
		partSize:        max(opts.PartSize, 16<<20),
		partThreads:     max(opts.PartThreads, 4),
		retry:           opts.Retry,
	}
	return s, nil
}

// Check confirms the bucket exists and the credentials work.
func (s *Store) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3://%s: %w", s.bucket, classify(err))
	}
	if !ok {
		return fmt.Errorf("s3://%s: no such bucket: %w", s.bucket, store.ErrPermanent)
	}
	return nil
}

// List streams every object below the prefix. It starts two things at
// once: one listing of the whole prefix, which lists a small destination
// (one page) in one request, and the discovery of partitions, the key
// space split at its first two levels, each level's prefixes listed in
// parallel. If the single listing has more than a page, it stops there;
// when its last key is an ostree object (names are hashes, spread evenly),
// the rest is listed as ranges of about a page each, all at once;
// otherwise the partitions are, from after the last key delivered. One
// listing request at a time would leave the server idle between pages.
// The first page and the ranges go without metadata (MinIO reads every
// object's to list it): small mutable files are known by their MD5 ETag.
// Only partitions needSum asks for carry it. Objects reach fn one at a
// time through a bounded channel.
func (s *Store) List(ctx context.Context, needSum func(keyOrPrefix string) bool, fn func(store.Object) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutines if fn fails
	objects := make(chan store.Object, 1024)
	errc := make(chan error, 1)
	go func() {
		defer close(objects)
		errc <- s.list(ctx, needSum, objects)
	}()
	for o := range objects {
		if err := fn(o); err != nil {
			cancel()
			for range objects {
			}
			return err
		}
	}
	if err := <-errc; err != nil {
		return err
	}
	return ctx.Err()
}

// pageSize is S3's largest listing page.
const pageSize = 1000

func (s *Store) list(ctx context.Context, needSum func(string) bool, out chan<- store.Object) error {
	started := time.Now()
	meta := func(name string) bool {
		return s.metadataListing && (needSum == nil || needSum(strings.TrimPrefix(name, s.prefix)))
	}
	type discovery struct {
		parts []part
		err   error
	}
	discCtx, stopDiscovery := context.WithCancel(ctx)
	defer stopDiscovery()
	found := make(chan discovery, 1)
	go func() {
		p, err := s.partitions(discCtx)
		found <- discovery{p, err}
	}()

	// One page of the whole prefix, without metadata: MinIO reads each
	// object's metadata to list it, which made a page ten times slower
	// here; mutable files are small single-part uploads, whose ETag is
	// their MD5.
	var first []store.Object
	truncated := false
	pctx, pcancel := context.WithCancel(ctx)
	err := s.listObjects(pctx, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}, func(o minio.ObjectInfo) error {
		if len(first) == pageSize {
			truncated = true
			return errEnough
		}
		first = append(first, s.object(o))
		return nil
	})
	pcancel()
	if err != nil && !errors.Is(err, errEnough) {
		return err
	}
	slog.Debug("listed the first page", "keys", len(first), "more", truncated, "took", time.Since(started))
	for _, o := range first {
		select {
		case out <- o:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if !truncated {
		return nil // a small destination: listed whole
	}
	last := s.prefix + first[len(first)-1].Key
	var parts []part
	if ranges := s.objectRanges(last); ranges != nil {
		stopDiscovery() // the object store's layout says enough
		parts = ranges
	} else {
		d := <-found
		if d.err != nil {
			return d.err
		}
		parts = d.parts
	}
	var todo []part
	for _, p := range parts {
		// Keys up to last were delivered by the single listing.
		switch {
		case p.upTo != "":
			// a range: starts after last already
		case p.single && p.name <= last:
			continue
		case !p.single && strings.HasPrefix(last, p.name):
			p.after = last
		case !p.single && last > p.name:
			continue // every key below p sorts before last
		}
		todo = append(todo, p)
	}
	return parallel.Do(ctx, listWorkers, len(todo), func(i int) error {
		// Ranges, like the first page, go without metadata.
		p := todo[i]
		return s.listPart(ctx, p, meta(p.name) && p.upTo == "", out)
	})
}

// errEnough stops a listing that has delivered what was asked.
var errEnough = errors.New("enough")

// listWorkers bounds the listing requests in flight.
const listWorkers = 32

// part is a listing task: a prefix listed recursively (from after a key,
// if after is set), one key found at a level above, or a range of keys
// (after, upTo] of the whole prefix (upTo "\xff" for the end).
type part struct {
	name   string
	single bool
	after  string
	upTo   string
}

// objectRanges splits what follows last into ranges of about a listing
// page each, listed in parallel, when last is an ostree object key: object
// names are hashes, spread evenly over objects/00/ to objects/ff/, so the
// first page tells how many keys follow. Nil for any other layout.
func (s *Store) objectRanges(last string) []part {
	rest, ok := strings.CutPrefix(last, s.prefix+"objects/")
	if !ok || len(rest) < 3 || rest[2] != '/' {
		return nil
	}
	at, err := strconv.ParseUint(rest[:2], 16, 8)
	if err != nil {
		return nil
	}
	// The first page reached object directory at; as many pages again
	// fill each same share of the rest.
	done := float64(at) + 0.5
	pages := int(math.Ceil(float64(256-at) / done))
	pages = min(max(pages, 1), 255-int(at)+1, 256)
	var parts []part
	from := last
	for i := 1; i <= pages; i++ {
		hex := int(at) + int(math.Round(float64(256-int(at))*float64(i)/float64(pages)))
		to := "\xff" // the last range runs to the end: refs/, summary, …
		if i < pages && hex < 256 {
			to = fmt.Sprintf("%sobjects/%02x/", s.prefix, hex)
		}
		if to <= from && to != "\xff" {
			continue
		}
		parts = append(parts, part{name: s.prefix, after: from, upTo: to})
		from = to
		if to == "\xff" {
			break
		}
	}
	return parts
}

// partitions splits the key space at its first two levels; the prefixes
// of a level are listed in parallel.
func (s *Store) partitions(ctx context.Context) ([]part, error) {
	var (
		mu    sync.Mutex
		parts []part
	)
	level := []string{s.prefix}
	for range 2 {
		var next []string
		err := parallel.Do(ctx, listWorkers, len(level), func(i int) error {
			// A listing resumed after a common prefix may name it again.
			seen := map[string]bool{}
			return s.listObjects(ctx, minio.ListObjectsOptions{Prefix: level[i]}, func(o minio.ObjectInfo) error {
				if seen[o.Key] {
					return nil
				}
				seen[o.Key] = true
				mu.Lock()
				defer mu.Unlock()
				if strings.HasSuffix(o.Key, "/") {
					next = append(next, o.Key)
				} else {
					parts = append(parts, part{name: o.Key, single: true})
				}
				return nil
			})
		})
		if err != nil {
			return nil, err
		}
		level = next
	}
	for _, pre := range level {
		parts = append(parts, part{name: pre})
	}
	return parts, nil
}

func (s *Store) object(o minio.ObjectInfo) store.Object {
	obj := store.Object{Key: strings.TrimPrefix(o.Key, s.prefix), Size: o.Size, ETag: o.ETag}
	obj.SHA256 = metaSHA256(o.UserMetadata)
	if obj.SHA256 == "" {
		obj.SHA256 = metaSHA256(o.UserMetadataStripped)
	}
	return obj
}

func (s *Store) listPart(ctx context.Context, p part, meta bool, out chan<- store.Object) error {
	opts := minio.ListObjectsOptions{Prefix: p.name, Recursive: !p.single, WithMetadata: meta, StartAfter: p.after}
	err := s.listObjects(ctx, opts, func(o minio.ObjectInfo) error {
		if p.single && o.Key != p.name {
			return nil // a longer key with the same beginning: its own part lists it
		}
		if p.upTo != "" && p.upTo != "\xff" && o.Key >= p.upTo {
			return errEnough // the next range lists it
		}
		select {
		case out <- s.object(o):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if errors.Is(err, errEnough) {
		return nil
	}
	return err
}

// listObjects lists as opts say, calling fn once per key. A listing is
// many requests; one that fails for a transient reason is tried again, as
// the store's retry policy says, from after the last key delivered, so
// that one bad request neither restarts the whole listing nor repeats a
// key.
func (s *Store) listObjects(ctx context.Context, opts minio.ListObjectsOptions, fn func(minio.ObjectInfo) error) error {
	var stopped error // fn's own error: not retried
	noOwner := false
	opts.FetchOwner = &noOwner // nobody reads it, and it is a tenth of each entry
	err := s.retry.Do(ctx, "list", opts.Prefix, func() error {
		// Stopping early must end minio-go's listing goroutine: it
		// answers the cancel by sending one more entry (the error), and
		// left unread it blocks for good, holding its decoded page of a
		// thousand entries. So cancel, then drain.
		lctx, cancel := context.WithCancel(ctx)
		objects := s.client.ListObjects(lctx, s.bucket, opts)
		defer func() {
			cancel()
			for range objects {
			}
		}()
		for o := range objects {
			if o.Err != nil {
				return classify(o.Err)
			}
			if stopped = fn(o); stopped != nil {
				return nil
			}
			opts.StartAfter = o.Key
		}
		return nil
	})
	if stopped != nil {
		return stopped
	}
	return err
}

func metaSHA256(m map[string]string) string {
	for k, v := range m {
		if strings.EqualFold(k, "X-Amz-Meta-Sha256") || strings.EqualFold(k, "sha256") {
			return v
		}
	}
	return ""
}

// Put uploads a file; large ones go multipart with parallel parts. The
// body is the open file (or the data read before), which minio-go can seek
// to retry.
func (s *Store) Put(ctx context.Context, u store.Upload) error {
	f, err := u.Body()
	if err != nil {
		return err
	}
	defer f.Close()
	opts := minio.PutObjectOptions{
		ContentType:          u.ContentType,
		CacheControl:         u.CacheControl,
		PartSize:             s.partSize,
		NumThreads:           s.partThreads,
		DisableContentSha256: true,
	}
	if u.SHA256 != "" {
		opts.UserMetadata = map[string]string{"sha256": u.SHA256}
	}
	if _, err := s.client.PutObject(ctx, s.bucket, s.prefix+u.Key, f, u.Size, opts); err != nil {
		return classify(err)
	}
	return nil
}

// Delete removes a key.
func (s *Store) Delete(ctx context.Context, key string) error {
	return classify(s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{}))
}

// Open reads a key, for mirror verify.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	o, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, classify(err)
	}
	if _, err := o.Stat(); err != nil {
		o.Close()
		return nil, classify(err)
	}
	return o, nil
}

// classify marks errors that retrying cannot fix as store.ErrPermanent.
func classify(err error) error {
	if err == nil {
		return nil
	}
	r := minio.ToErrorResponse(err)
	switch {
	case r.Code == "SlowDown" || r.StatusCode == http.StatusServiceUnavailable || r.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("%w (%w)", err, store.ErrThrottled)
	case r.StatusCode >= 500 || r.StatusCode == http.StatusRequestTimeout:
		return err
	case r.Code == "NoSuchKey" || r.StatusCode == http.StatusNotFound && r.Code != "NoSuchBucket":
		return fmt.Errorf("%w (%w, %w)", err, fs.ErrNotExist, store.ErrPermanent)
	case r.StatusCode >= 400:
		return fmt.Errorf("%w (%w)", err, store.ErrPermanent)
	}
	if op := (*net.OpError)(nil); errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("cannot reach the endpoint: %w", err) // worth another try, and saying so
	}
	return err // network errors: worth another try
}

// Close has nothing to let go: connections are the transport's.
func (s *Store) Close() error { return nil }
