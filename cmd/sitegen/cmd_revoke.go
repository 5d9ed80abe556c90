package main

import (
	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/manifest"
)

type revokeOptions struct {
	key, keys, stream, release, reason, manifests, now string
}

func newRevokeCommand() *cobra.Command {
	var opts revokeOptions
	cmd := &cobra.Command{
		Use:   "revoke --key KEY --stream S --release R --reason URL --manifests DIR",
		Short: "Withdraw a build: write and sign DIR/S/R.revoked.json",
		Long: `Withdraw a published build. Writes DIR/S/R.revoked.json and its signature.

The build's manifest must be in DIR/S. The reason is a URL (the bug or
announcement that says why). The site stops offering the build and offers
the previous good one, saying why.`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cli.Required(cmd, "key", "stream", "release", "reason", "manifests"); err != nil {
				return err
			}
			return runRevoke(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.key, "key", "", "PEM private key to sign with")
	f.StringVar(&opts.keys, "keys", "", "trusted keys: refuse to sign with a key they do not hold")
	f.StringVar(&opts.stream, "stream", "", "stream of the build")
	f.StringVar(&opts.release, "release", "", "release id of the build")
	f.StringVar(&opts.reason, "reason", "", "URL that says why the build is withdrawn")
	f.StringVar(&opts.manifests, "manifests", "", "manifests directory")
	f.StringVar(&opts.now, "now", "", "revocation time, RFC 3339 (default: the clock)")
	return cmd
}

func runRevoke(opts revokeOptions) error {
	at, err := parseNow(opts.now)
	if err != nil {
		return err
	}
	signer, err := loadSigner(opts.key, opts.keys)
	if err != nil {
		return err
	}
	_, err = catalog.Revoke(opts.manifests, signer, manifest.Revocation{
		Stream: opts.stream, Release: opts.release, Reason: opts.reason, RevokedAt: at,
	})
	return err
}
