package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/promote"
)

type promoteOptions struct {
	stateOptions
	from, to, key string
	dryRun, force bool
	ostree        promote.OSTreeOptions
}

func newPromoteCommand() *cobra.Command {
	var opts promoteOptions
	cmd := &cobra.Command{
		Use:   "promote --from testing --to stable --key KEY --keys DIR --manifests DIR [--now T] [--dry-run] [--force]",
		Short: "Make the two-week release: promote the newest tested build on a release day",
		Long: `On a release day (the config's promote.epoch plus a whole number of the
release stream's cadence; by default the epoch is the stream's first
release), write and sign DIR/<to>/<release>.json for the newest build of
the candidate stream that passed its tests, is not revoked, and is newer
than the release stream's current build. Every manifest is verified first,
as build does. With --ostree-repo, the release ref then moves to the
promoted commit (ostree refs --create --force, then ostree summary -u).

One line and one exit code per outcome:
  0  promoted, or not due (saying when it is due)
  4  due, but no build passed since the last release (naming the newest
     failure, and any candidate that was revoked)
  1  refused: a bad manifest, a candidate revoked or changed while being
     promoted, a commit missing from the repository, a key the trusted
     keys do not hold, the lock held
  2  a usage error: a flag missing or mistyped, a stream the config does
     not name

Run it daily from a timer. Running it again on the same day does nothing
new; two runs at once promote once (a lock beside DIR). After a release day
on which nothing passed, promote.stale-policy decides: "next-good" promotes
the first build that passes, "skip" waits for the next release day. After
a release is withdrawn, promote.withdrawn-policy decides: "next-good"
promotes the newest good candidate newer than the fallback at the next
run, "wait" keeps to the release days.`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cli.Required(cmd, "from", "to"); err != nil {
				return err
			}
			if opts.from == opts.to {
				return cli.Usagef("promote: --from and --to are both %q", opts.from)
			}
			if !opts.dryRun {
				if err := cli.Required(cmd, "key"); err != nil {
					return err
				}
			}
			if (opts.ostree.GPGSign != "" || opts.ostree.GPGHomedir != "" || opts.ostree.Ref != "") && opts.ostree.Repo == "" {
				return cli.Usagef("promote: --ref, --gpg-sign and --gpg-homedir apply only with --ostree-repo")
			}
			h, err := opts.historyOptions(cmd)
			if err != nil {
				return err
			}
			ro := promote.RunOptions{From: opts.from, To: opts.to, Force: opts.force, DryRun: opts.dryRun, History: h, OSTree: opts.ostree}
			if !opts.dryRun {
				// The release must verify with the keys every reader uses.
				if ro.Signer, err = loadSigner(opts.key, h.Keys); err != nil {
					return err
				}
			}
			res, err := promote.Run(cmd.Context(), ro)
			if errors.Is(err, promote.ErrUnknownStream) {
				return cli.Usagef("promote: %v", err)
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			d := res.Decision
			switch d.Outcome {
			case promote.Promoted:
				verb := "promoted"
				if opts.dryRun {
					verb = "would promote"
				}
				fmt.Fprintf(out, "%s %s/%s to %s (release day %s): %s\n", verb, opts.from, d.Candidate.Release, opts.to,
					d.ReleaseDay.Format("2006-01-02"), res.Path)
			case promote.NotDue:
				fmt.Fprintln(out, d.Why(res.Options))
			case promote.NothingPassed:
				return &cli.ExitError{Code: promote.ExitNothingPassed, Err: errors.New(d.Why(res.Options))}
			}
			return nil
		},
	}
	opts.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.from, "from", "", "candidate stream (nightly builds)")
	f.StringVar(&opts.to, "to", "", "release stream")
	f.StringVar(&opts.key, "key", "", "PEM private key that signs the release manifest")
	f.BoolVar(&opts.dryRun, "dry-run", false, "say what would be promoted; write nothing, take no lock")
	f.BoolVar(&opts.force, "force", false, "promote off schedule (a security fix)")
	f.StringVar(&opts.ostree.Repo, "ostree-repo", "", "archive ostree repository whose release ref moves to the promoted commit")
	f.StringVar(&opts.ostree.Ref, "ref", "", "the release stream's ostree ref (default: the ref its newest build names)")
	f.StringVar(&opts.ostree.GPGSign, "gpg-sign", "", "GPG key id to sign the ostree summary with")
	f.StringVar(&opts.ostree.GPGHomedir, "gpg-homedir", "", "GPG home directory for --gpg-sign")
	return cmd
}
