package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/cli"

	"github.com/projectatomic/atomic-site/internal/atomicfile"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/trust"
)

type revokeOptions struct {
	key, stream, release, reason, manifests, now string
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
	rev := manifest.Revocation{
		Schema:    manifest.RevocationSchema,
		Stream:    opts.stream,
		Release:   opts.release,
		Reason:    opts.reason,
		RevokedAt: at,
	}
	data, err := json.MarshalIndent(rev, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	dir := filepath.Join(opts.manifests, opts.stream)
	path := filepath.Join(dir, opts.release+manifest.RevocationSuffix)
	// Parse what we are about to sign: the same checks as every reader.
	if _, err := manifest.Parse(path, data); err != nil {
		return err
	}
	if err := findBuild(dir, opts.stream, opts.release); err != nil {
		return err
	}
	signer, err := trust.LoadSigner(opts.key)
	if err != nil {
		return err
	}
	sig, err := signer.Sign(data)
	if err != nil {
		return fmt.Errorf("sign %s: %w", path, err)
	}
	// The signature lands first: a revocation must never sit unsigned,
	// where it would fail every build of the site.
	return atomicfile.NoClobber(
		atomicfile.File{Path: path + trust.SigSuffix, Data: sig, Perm: 0o644},
		atomicfile.File{Path: path, Data: data, Perm: 0o644},
	)
}

// findBuild checks that dir holds a manifest of stream/release, so that a
// typo in the release does not leave the bad build published.
func findBuild(dir, stream, release string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("no build %s/%s: %w", stream, release, err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") || strings.HasSuffix(name, manifest.RevocationSuffix) {
			continue
		}
		p := filepath.Join(dir, name)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b, err := manifest.ParseBuild(p, data)
		if err != nil {
			continue // verify reports bad files; here we only look for the build
		}
		if b.Stream == stream && b.Release == release {
			return nil
		}
	}
	return errors.New("no build " + stream + "/" + release + " in " + dir)
}
