package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/projectatomic/atomic-site/internal/atomicfile"
	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/gpgsig"
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

// writeManifest prints the manifest, or writes it to out: never over a
// different file, and a file that holds these exact bytes already is left
// as it is, so that importing again changes nothing.
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
	if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, data) {
		return nil
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

// testResult is what import records of a build's tests.
type testResult struct {
	status, failureTracker, tests string
	commit, ref                   string
}

func (r *testResult) addFlags(f *pflag.FlagSet) {
	f.StringVar(&r.status, "status", "passed", "the test result: passed or failed")
	f.StringVar(&r.failureTracker, "failure-tracker", "", "with --status failed: URL of the bug that tracks the failure")
	f.StringVar(&r.tests, "tests", "", "URL of the test run")
	f.StringVar(&r.commit, "ostree-commit", "", "the build's ostree commit (64 hex digits), with --ostree-ref")
	f.StringVar(&r.ref, "ostree-ref", "", "the ostree ref the build is for, with --ostree-commit")
}

// apply checks the result's flags and sets them in opts. Each is checked
// as the manifest's field is, again, when the manifest is made.
func (r testResult) apply(opts *importer.ChecksumOptions) error {
	switch r.status {
	case "passed":
		if r.failureTracker != "" {
			return cli.Usagef("--failure-tracker is for a build that failed; this one has --status passed")
		}
	case "failed":
		if r.failureTracker == "" {
			return cli.Usagef("--status failed needs --failure-tracker URL: the bug that tracks the failure")
		}
		opts.Failed = true
	default:
		return cli.Usagef("--status %q: want passed or failed", r.status)
	}
	for flag, u := range map[string]string{"failure-tracker": r.failureTracker, "tests": r.tests} {
		if u != "" && !manifest.IsHTTPURL(u) {
			return cli.Usagef("--%s %q: want an http(s) URL", flag, u)
		}
	}
	opts.FailureTracker, opts.Tests = r.failureTracker, r.tests
	switch {
	case (r.commit == "") != (r.ref == ""):
		return cli.Usagef("--ostree-commit and --ostree-ref go together")
	case r.commit != "" && !manifest.IsSHA256(r.commit):
		return cli.Usagef("--ostree-commit %q: want 64 lowercase hex digits", r.commit)
	case r.commit != "":
		opts.OSTree = &manifest.OSTree{Commit: r.commit, Ref: r.ref}
	}
	return nil
}

func newImportChecksumCommand() *cobra.Command {
	var opts importer.ChecksumOptions
	var result testResult
	var keyring, out, buildDate string
	cmd := &cobra.Command{
		Use:   "checksum FILE --stream S --release R (--base-url URL | --dir DIR) [--status passed|failed] [--pgp-keyring FILE]",
		Short: "Import a Fedora CHECKSUM file, checking its OpenPGP clear signature",
		Long: `Import a Fedora CHECKSUM file ("# FILE: N bytes" and "SHA256 (FILE) = HEX"
lines). Each file's architecture and format come from its name; its
location is --base-url/FILE, or DIR/FILE relative to the stream's
directory with --dir (the site resolves it under downloads-url, and mirror
sync --keys checks each file against the manifest before uploading it).
With --pgp-keyring, the clear signature must verify with a key of that
keyring, or the file is refused.

The test result goes in too: --status failed with --failure-tracker (the
bug), --tests (the test run), and the build's ostree commit and ref. A
manifest already written with the same bytes is left as it is.`,
		Args: cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cli.Required(cmd, "stream", "release"); err != nil {
				return err
			}
			switch {
			case opts.BaseURL != "" && opts.Dir != "":
				return cli.Usagef("import: give --base-url or --dir, not both")
			case opts.BaseURL == "" && opts.Dir == "":
				return cli.Usagef("import: --base-url URL or --dir DIR is required: where the files are downloaded from")
			case opts.BaseURL != "" && !manifest.IsHTTPURL(opts.BaseURL):
				return cli.Usagef("--base-url %q: want an http(s) URL", opts.BaseURL)
			case opts.Dir != "" && (strings.Contains(opts.Dir, "://") || path.IsAbs(opts.Dir) || slices.Contains(strings.Split(opts.Dir, "/"), "..")):
				return cli.Usagef("--dir %q: want a directory relative to the stream's, such as %s/", opts.Dir, opts.Release)
			}
			if buildDate != "" {
				t, err := time.Parse(time.RFC3339, buildDate)
				if err != nil {
					return cli.Usagef("--build-date %q: want RFC 3339", buildDate)
				}
				opts.BuildDate = t
			}
			if err := result.apply(&opts); err != nil {
				return err
			}
			var kr openpgp.EntityList
			if keyring != "" {
				var err error
				if kr, err = gpgsig.LoadKeyring(keyring); err != nil {
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
	f.StringVar(&opts.Dir, "dir", "", "the files' directory, relative to the stream's (relative locations), instead of --base-url")
	f.StringVar(&opts.Title, "title", "", "title of the build")
	f.StringVar(&buildDate, "build-date", "", "build date, RFC 3339 (default: the date in the release id)")
	f.StringVar(&keyring, "pgp-keyring", "", "OpenPGP keyring (armored or binary) the clear signature must verify with")
	f.StringVar(&out, "out", "", "write the manifest here instead of to stdout")
	result.addFlags(f)
	return cmd
}
