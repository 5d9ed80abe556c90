package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path"
	"time"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/bytesize"
	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/history"
	"github.com/projectatomic/atomic-site/internal/project"
	"github.com/projectatomic/atomic-site/internal/remote"
)

// Main runs sitegen with os.Args and returns the exit code.
func Main() int { return cli.Main(run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cli.Run(ctx, newRootCommand(stderr), args, stdout, stderr)
}

func newRootCommand(stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "sitegen",
		Short: "Verify signed release manifests and build the Fedora Atomic Host download site",
	}
	cli.AddLogFlag(root, stderr)
	cli.SetVersion(root, "site files built in ("+project.Digest()+"), unless --project names a directory")
	root.AddCommand(
		newKeygenCommand(),
		newSignCommand(),
		newRevokeCommand(),
		newVerifyCommand(),
		newBuildCommand(),
		newServeCommand(),
		newImportCommand(),
		newAnnounceCommand(),
		newPromoteCommand(),
		newRefsCommand(),
		newCheckCommand(),
		newPotCommand(),
	)
	return root
}

// stateOptions are the flags of every command that reads the manifests.
type stateOptions struct {
	manifests string
	keys      string
	config    string
	project   string
	now       string
	// projectDir is where the project's files are: --project, or the
	// built-in ones; set by historyOptions.
	projectDir string
	maxSize    string
	endpoint   string
	ignore     []string
	// cleanup removes the copy of manifests fetched from a bucket.
	cleanup func()
}

// done removes what historyOptions fetched.
func (o *stateOptions) done() {
	if o.cleanup != nil {
		o.cleanup()
	}
}

func (o *stateOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.manifests, "manifests", "", "directory of signed manifests (<stream>/<release>.json), or s3://BUCKET/PREFIX, where mirror sync published them")
	f.StringVar(&o.endpoint, "endpoint", "", "with --manifests s3://…: the S3-compatible server's URL (default: AWS S3)")
	f.StringVar(&o.keys, "keys", "", "directory of trusted PEM public keys")
	f.StringVar(&o.config, "config", "", "sitegen config file: streams, cadences, titles (default: PROJECT/"+config.DefaultPath+", or the defaults if it is missing)")
	f.StringVar(&o.project, "project", "", "directory holding site/, templates/ and content/ (default: the ones built into sitegen)")
	f.StringVar(&o.now, "now", "", "the time to judge staleness at, RFC 3339 (default: the clock)")
	f.StringVar(&o.maxSize, "max-manifest-size", "1MiB", "refuse any manifest or revocation file larger than this")
	f.StringArrayVar(&o.ignore, "ignore", nil, "a glob of names kept beside the manifests (a file or directory name, or its path below --manifests); repeat for more. Anything else out of place is an error")
}

// historyOptions checks the flags and says where the history is. The
// config file is resolved here, once, for every command.
func (o *stateOptions) historyOptions(cmd *cobra.Command) (history.Options, error) {
	if err := cli.Required(cmd, "manifests", "keys"); err != nil {
		return history.Options{}, err
	}
	for _, pat := range o.ignore {
		if _, err := path.Match(pat, ""); err != nil {
			return history.Options{}, cli.Usagef("--ignore %q: %v", pat, err)
		}
	}
	opts := history.Options{Manifests: o.manifests, Keys: o.keys, Ignore: o.ignore}
	if o.now != "" {
		now, err := parseNow(o.now)
		if err != nil {
			return opts, err
		}
		opts.Now = now
	}
	dir, err := project.Dir(o.project)
	if err != nil {
		return opts, err
	}
	o.projectDir = dir
	opts.Config, opts.ConfigOptional = history.ConfigPath(dir, o.config, cmd.Flags().Changed("config"))
	max, err := bytesize.Parse(o.maxSize)
	if err != nil || max == 0 {
		return opts, cli.Usagef("--max-manifest-size %q: want a size like 1MiB or 512KiB", o.maxSize)
	}
	opts.MaxManifestSize = max
	switch {
	case remote.IsRemote(o.manifests):
		if cmd.Name() == "serve" || cmd.Name() == "promote" {
			return opts, cli.Usagef("%s: --manifests must be a directory (%s)", cmd.Name(), map[string]string{"serve": "serve watches it", "promote": "promote writes into it"}[cmd.Name()])
		}
		dir, err := os.MkdirTemp("", "sitegen-manifests-*")
		if err != nil {
			return opts, err
		}
		o.cleanup = func() { os.RemoveAll(dir) }
		n, err := remote.Fetch(cmd.Context(), o.manifests, o.endpoint, dir, max)
		if err != nil {
			return opts, err
		}
		slog.Info("fetched the signed manifests", "from", o.manifests, "files", n)
		opts.Manifests = dir
	case cmd.Flags().Changed("endpoint"):
		return opts, cli.Usagef("--endpoint applies only with --manifests s3://BUCKET/PREFIX")
	}
	return opts, nil
}

// load verifies every manifest and computes the release state, as a build
// does, judged now (the clock if --now is not given).
func (o *stateOptions) load(ctx context.Context, cmd *cobra.Command) (*history.History, error) {
	defer o.done()
	opts, err := o.historyOptions(cmd)
	if err != nil {
		return nil, err
	}
	return history.Load(ctx, opts)
}

func parseNow(s string) (time.Time, error) {
	if s == "" {
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, cli.Usagef("--now %q: want RFC 3339, like 2015-07-01T00:00:00Z", s)
	}
	return t.UTC(), nil
}
