package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// errUsage marks errors in how the command was called (exit 2).
var errUsage = errors.New("usage")

// Main runs sitegen with os.Args and returns the exit code: 0 on success,
// 2 for a usage error, 1 for anything else, the reason printed once.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	// A joined error has one line per bad file: prefix each.
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(stderr, "sitegen: %s\n", line)
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

type globalOptions struct {
	logLevel string
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	var g globalOptions
	root := &cobra.Command{
		Use:   "sitegen",
		Short: "Verify signed release manifests and build the Fedora Atomic Host download site",
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
				return fmt.Errorf("%w: --log-level %q: want debug, info, warn or error", errUsage, g.logLevel)
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl})))
			return nil
		},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return fmt.Errorf("%w: %v", errUsage, err) })
	root.AddCommand(
		newKeygenCommand(),
		newSignCommand(),
		newRevokeCommand(),
		newVerifyCommand(),
		newBuildCommand(),
		newServeCommand(),
	)
	return root
}

// exactArgs and minArgs report argument count errors as usage errors.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return fmt.Errorf("%w: %s: %v", errUsage, cmd.Name(), err)
		}
		return nil
	}
}

func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.MinimumNArgs(n)(cmd, args); err != nil {
			return fmt.Errorf("%w: %s: %v", errUsage, cmd.Name(), err)
		}
		return nil
	}
}

func required(cmd *cobra.Command, flags ...string) error {
	for _, f := range flags {
		if !cmd.Flags().Changed(f) {
			return fmt.Errorf("%w: %s: --%s is required", errUsage, cmd.Name(), f)
		}
	}
	return nil
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
	if err := required(cmd, "manifests", "keys"); err != nil {
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
		return time.Time{}, fmt.Errorf("%w: --now %q: want RFC 3339, like 2015-07-01T00:00:00Z", errUsage, s)
	}
	return t.UTC(), nil
}
