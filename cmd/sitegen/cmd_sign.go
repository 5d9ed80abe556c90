package main

import (
	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/trust"
)

type signOptions struct {
	key, keys string
}

func newSignCommand() *cobra.Command {
	var opts signOptions
	cmd := &cobra.Command{
		Use:   "sign --key KEY FILE...",
		Short: "Write FILE.sig, a detached signature, for each FILE",
		Long: `Write FILE.sig for each FILE: the base64 of a signature over its exact
bytes, as cosign sign-blob writes it.

A .json file is read as a manifest first and refused if it is not a valid
one, so that nothing malformed gets signed. With --keys, each signature is
checked against the trusted keys before anything is written: a key they do
not hold is refused, instead of leaving files that verify and build would
refuse. A file already signed by this key is left as it is. Either every
signature is written or none is.`,
		Args: cli.MinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cli.Required(cmd, "key"); err != nil {
				return err
			}
			return runSign(opts, args)
		},
	}
	cmd.Flags().StringVar(&opts.key, "key", "", "PEM private key (ECDSA P-256, Ed25519 or RSA)")
	cmd.Flags().StringVar(&opts.keys, "keys", "", "trusted keys: refuse to sign with a key they do not hold")
	return cmd
}

func runSign(opts signOptions, files []string) error {
	signer, err := loadSigner(opts.key, opts.keys)
	if err != nil {
		return err
	}
	return catalog.SignFiles(signer, files...)
}

// loadSigner reads the signing key; with keys, its signatures are checked
// against the trusted keys before they are used.
func loadSigner(key, keys string) (catalog.Signer, error) {
	signer, err := trust.LoadSigner(key)
	if err != nil || keys == "" {
		return signer, err
	}
	kr, err := trust.LoadKeys(keys)
	if err != nil {
		return nil, err
	}
	return catalog.Checked{Signer: signer, Keys: kr, Key: key, Dir: keys}, nil
}
