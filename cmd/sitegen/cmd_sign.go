package main

import (
	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/trust"
)

type signOptions struct {
	key string
}

func newSignCommand() *cobra.Command {
	var opts signOptions
	cmd := &cobra.Command{
		Use:   "sign --key KEY FILE...",
		Short: "Write FILE.sig, a detached signature, for each FILE",
		Long: `Write FILE.sig for each FILE: the base64 of a signature over its exact
bytes, as cosign sign-blob writes it.

A .json file is read as a manifest first and refused if it is not a valid
one, so that nothing malformed gets signed. Either every signature is
written or none is.`,
		Args: cli.MinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cli.Required(cmd, "key"); err != nil {
				return err
			}
			return runSign(opts, args)
		},
	}
	cmd.Flags().StringVar(&opts.key, "key", "", "PEM private key (ECDSA P-256, Ed25519 or RSA)")
	return cmd
}

func runSign(opts signOptions, files []string) error {
	signer, err := trust.LoadSigner(opts.key)
	if err != nil {
		return err
	}
	return catalog.SignFiles(signer, files...)
}
