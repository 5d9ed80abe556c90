package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/trust"
)

type verifyOptions struct {
	storeOptions
	against string
	deep    bool
	keys    string
}

func newVerifyCommand() *cobra.Command {
	var opts verifyOptions
	cmd := &cobra.Command{
		Use:   "verify DEST [--against SRC] [--deep]",
		Short: "Check a mirror: every ref's commit is there, every source object, and with --deep their content",
		Long: `Check a mirror and list every problem; exit non-zero if there is any.

For an ostree repository: every ref's commit is present. With --against
SRC, every file of the source is present with the right size. With
--deep, metadata objects (.commit, .dirtree, .dirmeta) are downloaded and
their sha256 checked against their names, and release images against
their manifests (with --keys, the manifests' signatures too).`,
		Args: cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.Context(), cmd, opts, args[0])
		},
	}
	opts.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.against, "against", "", "source to compare with: every file must be present with the right size")
	f.BoolVar(&opts.deep, "deep", false, "download metadata objects and images and check their sha256")
	f.StringVar(&opts.keys, "keys", "", "trusted keys: check release manifests' signatures")
	return cmd
}

func runVerify(ctx context.Context, cmd *cobra.Command, opts verifyOptions, dest string) error {
	dst, err := openDest(ctx, dest, opts.storeOptions)
	if err != nil {
		return err
	}
	vopts := mirror.VerifyOptions{Deep: opts.deep, Jobs: opts.jobs}
	var keys *trust.Keyring
	if opts.keys != "" {
		if keys, err = trust.LoadKeys(opts.keys); err != nil {
			return err
		}
		vopts.Keys = keys
	}
	if opts.against != "" {
		if vopts.Against, err = mirror.Open(ctx, opts.against, keys); err != nil {
			return err
		}
	}
	rep, err := mirror.Verify(ctx, retried(dst), vopts)
	if err != nil {
		return fmt.Errorf("%s: %w", dest, err)
	}
	out := cmd.OutOrStdout()
	for _, p := range rep.Problems {
		fmt.Fprintln(out, p)
	}
	if n := len(rep.Problems); n > 0 {
		return fmt.Errorf("%s: %d problems", dest, n)
	}
	fmt.Fprintf(out, "%s: %d objects, no problems\n", dest, rep.Objects)
	return nil
}
