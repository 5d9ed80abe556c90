package main

import (
	"context"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/builder"
	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/release"
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
	cli.SetVersion(root)
	root.AddCommand(
		newKeygenCommand(),
		newSignCommand(),
		newRevokeCommand(),
		newVerifyCommand(),
		newBuildCommand(),
		newServeCommand(),
		newImportCommand(),
		newAnnounceCommand(),
	)
	return root
}

// stateOptions are the flags of every command that reads the manifests.
type stateOptions struct {
	manifests string
	keys      string
	config    string
	now       string
}

func (o *stateOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.manifests, "manifests", "", "directory of signed manifests (<stream>/<release>.json)")
	f.StringVar(&o.keys, "keys", "", "directory of trusted PEM public keys")
	f.StringVar(&o.config, "config", config.DefaultPath, "sitegen config file (streams, cadences, titles)")
	f.StringVar(&o.now, "now", "", "the time to judge staleness at, RFC 3339 (default: the clock)")
}

// load verifies every manifest and computes the release state, as a build
// does.
func (o *stateOptions) load(ctx context.Context, cmd *cobra.Command) (*release.State, *config.Config, error) {
	if err := cli.Required(cmd, "manifests", "keys"); err != nil {
		return nil, nil, err
	}
	now, err := parseNow(o.now)
	if err != nil {
		return nil, nil, err
	}
	return builder.State(ctx, builder.Options{
		Manifests:      o.manifests,
		Keys:           o.keys,
		Config:         o.config,
		ConfigOptional: !cmd.Flags().Changed("config"),
		Now:            now,
	})
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
