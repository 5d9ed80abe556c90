package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/atomicfile"
	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/importer"
	"github.com/projectatomic/atomic-site/internal/manifest"
)

func newImportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Make a manifest, ready to be signed, from what the compose pipeline wrote",
	}
	cmd.AddCommand(newImportFCOSCommand(), newImportChecksumCommand())
	return cmd
}

// writeManifest prints the manifest, or writes it to out (never over an
// existing file).
func writeManifest(w io.Writer, out string, b *manifest.Build) error {
	name := out
	if name == "" {
		name = b.Stream + "/" + b.Release + ".json"
	}
	data, err := importer.Marshal(name, b)
	if err != nil {
		return err
	}
	if out == "" {
		_, err = w.Write(data)
		return err
	}
	return atomicfile.NoClobber(atomicfile.File{Path: out, Data: data, Perm: 0o644})
}

func newImportFCOSCommand() *cobra.Command {
	var stream, out string
	cmd := &cobra.Command{
		Use:   "fcos-release FILE --stream S [--out FILE]",
		Short: "Import a Fedora CoreOS release.json",
		Args:  cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cli.Required(cmd, "stream"); err != nil {
				return err
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			b, err := importer.FCOSRelease(args[0], data, stream)
			if err != nil {
				return err
			}
			return writeManifest(cmd.OutOrStdout(), out, b)
		},
	}
	cmd.Flags().StringVar(&stream, "stream", "", "stream of the build")
	cmd.Flags().StringVar(&out, "out", "", "write the manifest here instead of to stdout")
	return cmd
}

func newImportChecksumCommand() *cobra.Command {
	var opts importer.ChecksumOptions
	var keyring, out, buildDate string
	cmd := &cobra.Command{
		Use:   "checksum FILE --stream S --release R --base-url URL [--pgp-keyring FILE]",
		Short: "Import a Fedora CHECKSUM file, checking its OpenPGP clear signature",
		Long: `Import a Fedora CHECKSUM file ("# FILE: N bytes" and "SHA256 (FILE) = HEX"
lines). Each file's architecture and format come from its name; its
location is --base-url/FILE. With --pgp-keyring, the clear signature must
verify with a key of that keyring, or the file is refused.`,
		Args: cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cli.Required(cmd, "stream", "release", "base-url"); err != nil {
				return err
			}
			if buildDate != "" {
				t, err := time.Parse(time.RFC3339, buildDate)
				if err != nil {
					return cli.Usagef("--build-date %q: want RFC 3339", buildDate)
				}
				opts.BuildDate = t
			}
			if !manifest.IsHTTPURL(opts.BaseURL) {
				return cli.Usagef("--base-url %q: want an http(s) URL", opts.BaseURL)
			}
			var kr openpgp.EntityList
			if keyring != "" {
				var err error
				if kr, err = importer.LoadKeyring(keyring); err != nil {
					return err
				}
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			entries, err := importer.ParseChecksum(args[0], data, kr)
			if err != nil {
				return err
			}
			b, err := importer.FromChecksum(entries, opts)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			return writeManifest(cmd.OutOrStdout(), out, b)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Stream, "stream", "", "stream of the build")
	f.StringVar(&opts.Release, "release", "", "release id, such as 28.20180425.0")
	f.StringVar(&opts.BaseURL, "base-url", "", "URL of the directory the files are downloaded from")
	f.StringVar(&opts.Title, "title", "", "title of the build")
	f.StringVar(&buildDate, "build-date", "", "build date, RFC 3339 (default: the date in the release id)")
	f.StringVar(&keyring, "pgp-keyring", "", "OpenPGP keyring (armored or binary) the clear signature must verify with")
	f.StringVar(&out, "out", "", "write the manifest here instead of to stdout")
	return cmd
}
