package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/cli"

	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/release"
)

func newVerifyCommand() *cobra.Command {
	var opts stateOptions
	cmd := &cobra.Command{
		Use:   "verify --keys DIR --manifests DIR [--now RFC3339]",
		Short: "Verify every manifest and print each stream's state",
		Long: `Verify every manifest and revocation against the trusted keys, then print,
per stream, the current build, whether it is stale, and every revoked build.
Exits non-zero, naming each bad file, if any file fails.`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := opts.load(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			printState(cmd.OutOrStdout(), h.State)
			return nil
		},
	}
	opts.addFlags(cmd)
	return cmd
}

func printState(w io.Writer, s *release.State) {
	const day = "2006-01-02"
	if len(s.Streams) == 0 {
		fmt.Fprintln(w, "no streams: the manifests directory has no builds")
	}
	for i, st := range s.Streams {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "stream %s (%s, cadence %s)\n", st.Name, plural(len(st.Builds), "build"), config.FormatDuration(st.Cadence))
		if st.Current == nil {
			fmt.Fprintln(w, "  current: none (no released build that is not revoked)")
		} else {
			fmt.Fprintf(w, "  current: %s (built %s)\n", st.Current.Release, st.Current.Date.Format(day))
			if st.Stale {
				fmt.Fprintf(w, "  stale:   since %s, older than the %s cadence\n", st.StaleSince.Format(day), config.FormatDuration(st.Cadence))
			} else {
				fmt.Fprintln(w, "  stale:   no")
			}
		}
		if f := st.Failure; f != nil {
			fmt.Fprintf(w, "  failure: %s (built %s) %s\n", f.Release, f.Date.Format(day), f.FailureTracker)
		}
		for _, b := range st.Builds {
			if !b.Revoked() {
				continue
			}
			instead := "nothing"
			if b.ReplacedBy != nil {
				instead = b.ReplacedBy.Release
			}
			fmt.Fprintf(w, "  revoked: %s at %s, %s; offered instead: %s\n",
				b.Release, b.Revocation.RevokedAt.Format(day), b.Revocation.Reason, instead)
		}
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
