package main

import (
	"context"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/trust"
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

// load verifies every manifest and computes the release state. Any bad
// file fails the whole load: the site is never built from part of the
// signed history.
func (o *stateOptions) load(ctx context.Context, cmd *cobra.Command) (*release.State, *config.Config, error) {
	if err := cli.Required(cmd, "manifests", "keys"); err != nil {
		return nil, nil, err
	}
	now, err := parseNow(o.now)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := config.Load(o.config, !cmd.Flags().Changed("config"))
	if err != nil {
		return nil, nil, err
	}
	kr, err := trust.LoadKeys(o.keys)
	if err != nil {
		return nil, nil, err
	}
	cat, err := catalog.Load(ctx, o.manifests, kr)
	if err != nil {
		return nil, nil, err
	}
	state, err := release.Compute(cat, release.Options{Now: now, Cadence: cfg.Cadence, Streams: cfg.StreamNames()})
	if err != nil {
		return nil, nil, err
	}
	return state, cfg, nil
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
