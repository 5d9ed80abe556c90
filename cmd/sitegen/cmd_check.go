package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/siteindex"
	"github.com/projectatomic/atomic-site/internal/trust"
)

func newCheckCommand() *cobra.Command {
	var keys, now string
	cmd := &cobra.Command{
		Use:   "check DIR|URL --keys DIR [--now RFC3339]",
		Short: "Check a built or deployed site: signed index, not expired, every file as listed",
		Long: `Check a site as a client or a monitoring probe would: index.json's
signature against the site keys in --keys, that it has not expired, the size
and sha256 of every file it lists (stream metadata, update graphs, release
indexes, feeds, CHECKSUM files, the published manifests), and that every
stream's build page links each artifact its stream metadata names.

Prints each problem on a line naming the file, and exits non-zero if there
is any. An expired index means nobody rebuilds the site, or a cache serves
an old copy.`,
		Args: cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cli.Required(cmd, "keys"); err != nil {
				return err
			}
			at, err := parseNow(now)
			if err != nil {
				return err
			}
			kr, err := trust.LoadKeys(keys)
			if err != nil {
				return err
			}
			read, err := siteindex.Open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			rep, err := siteindex.Check(read, kr, at)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, p := range rep.Problems {
				fmt.Fprintln(out, p)
			}
			if n := len(rep.Problems); n > 0 {
				return fmt.Errorf("%s: %d problems", args[0], n)
			}
			fmt.Fprintf(out, "%s: index of %s, valid until %s: %d files, no problems\n", args[0],
				rep.Index.Generated.Format(time.RFC3339), rep.Index.Expires.Format(time.RFC3339), len(rep.Index.Files))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keys, "keys", "", "directory of the trusted site keys (PEM public keys)")
	f.StringVar(&now, "now", "", "the time to judge expiry at, RFC 3339 (default: the clock)")
	return cmd
}
