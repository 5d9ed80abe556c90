package main

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/store/local"
	"github.com/projectatomic/atomic-site/internal/store/s3"
)

// Main runs mirror with os.Args and returns the exit code.
func Main() int { return cli.Main(run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:   "mirror",
		Short: "Publish ostree repositories and release images to S3-compatible storage, safely ordered",
	}
	cli.AddLogFlag(root, stderr)
	cli.SetVersion(root)
	root.AddCommand(newSyncCommand(), newVerifyCommand(), newWatchCommand(), newUnlockCommand())
	return cli.Run(ctx, root, args, stdout, stderr)
}

// storeOptions are the flags that say how to reach a destination.
type storeOptions struct {
	endpoint string
	region   string
	jobs     int
}

func (o *storeOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.endpoint, "endpoint", "", "S3-compatible server URL, such as http://127.0.0.1:9000 (default: AWS S3)")
	f.StringVar(&o.region, "region", "", "S3 region (default: the server's)")
	f.IntVar(&o.jobs, "jobs", 256, "most transfers at once: the mirror finds how many pay (more over long round trips), up to this")
}

// destination is what the commands need of a store.
type destination interface {
	mirror.Store
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Close() error
}

// The backends fit what the engine declares it needs of them.
var (
	_ destination         = (*s3.Store)(nil)
	_ mirror.LeaseStore   = (*s3.Store)(nil)
	_ mirror.Leftovers    = (*s3.Store)(nil)
	_ mirror.ServerCopier = (*s3.Store)(nil)
	_ destination         = (*local.Store)(nil)
	_ mirror.Summer       = (*local.Store)(nil)
	_ mirror.Locker       = (*local.Store)(nil)
	_ mirror.Leftovers    = (*local.Store)(nil)
)

// openDest opens s3://BUCKET/PREFIX, or a local directory; with check,
// it confirms that the bucket is there and the credentials work.
func openDest(ctx context.Context, dest string, o storeOptions, check bool) (destination, error) {
	if o.jobs < 1 {
		return nil, cli.Usagef("--jobs %d: want at least 1", o.jobs)
	}
	if !strings.HasPrefix(dest, "s3://") {
		if strings.Contains(dest, "://") {
			return nil, cli.Usagef("destination %q: want s3://BUCKET/PREFIX or a local directory", dest)
		}
		return local.New(dest)
	}
	s, err := s3.New(dest, s3.Options{Endpoint: o.endpoint, Region: o.region, MaxConns: o.jobs * 2, Retry: retryPolicy()})
	if err != nil {
		return nil, err
	}
	if check {
		if err := s.Check(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// retryPolicy is how a failed request is tried again; each retry is
// logged, with its reason and attempt, as the run goes on.
func retryPolicy() store.RetryPolicy {
	return store.RetryPolicy{
		Attempts: 4,
		Backoff:  500 * time.Millisecond,
		Report:   store.LogRetry,
	}
}
