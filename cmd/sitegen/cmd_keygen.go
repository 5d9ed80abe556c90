package main

import (
	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/cli"

	"github.com/projectatomic/atomic-site/internal/atomicfile"
	"github.com/projectatomic/atomic-site/internal/trust"
)

type keygenOptions struct {
	out string
}

func newKeygenCommand() *cobra.Command {
	var opts keygenOptions
	cmd := &cobra.Command{
		Use:   "keygen --out PREFIX",
		Short: "Make an ECDSA P-256 signing key: PREFIX.key (private, mode 0600) and PREFIX.pub",
		Long: `Make an ECDSA P-256 key pair for signing manifests.

PREFIX.key is the private key, unencrypted PKCS#8 PEM, readable only by its
owner. PREFIX.pub is the public key: copy it into the site's keys directory.
Existing files are never overwritten.`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cli.Required(cmd, "out"); err != nil {
				return err
			}
			return runKeygen(opts)
		},
	}
	cmd.Flags().StringVar(&opts.out, "out", "", "path prefix of the key files")
	return cmd
}

func runKeygen(opts keygenOptions) error {
	priv, pub, err := trust.GenerateKey()
	if err != nil {
		return err
	}
	// The public key goes last: a .pub on disk means the pair is complete.
	return atomicfile.NoClobber(
		atomicfile.File{Path: opts.out + ".key", Data: priv, Perm: 0o600},
		atomicfile.File{Path: opts.out + ".pub", Data: pub, Perm: 0o644},
	)
}
