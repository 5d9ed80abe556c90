package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/promote"
)

func newRefsCommand() *cobra.Command {
	var opts stateOptions
	var ro promote.RefsOptions
	cmd := &cobra.Command{
		Use:   "refs --manifests DIR --keys DIR --ostree-repo REPO [--gpg-sign KEYID --gpg-homedir DIR] [--dry-run]",
		Short: "Point each stream's ostree ref at its current build's commit, as the signed manifests say",
		Long: `Make the ostree refs of REPO (an archive repository the release bot owns)
follow the verified history: each stream's ref names the commit of the
stream's current build. A candidate that passed its tests moves its ref; one
that failed moves nothing, so a public ref never points at an untested
commit; a withdrawn build's ref goes back to the build offered in its
place. A ref whose stream has no good build left is deleted. Commits must
be in the repository and may be bound to the ref (ostree commit
--bind-ref). The summary is then regenerated once, signed with --gpg-sign,
and only if a ref changed: running refs again changes nothing.

Candidates are committed without moving a public ref (ostree commit
--orphan, or to a ref that is not published): refs moves it once the
build's manifest says it passed. Run it after import, after promote and
after revoke; the daily release unit does.`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cli.Required(cmd, "ostree-repo"); err != nil {
				return err
			}
			if ro.OSTree.GPGHomedir != "" && ro.OSTree.GPGSign == "" {
				return cli.Usagef("refs: --gpg-homedir applies only with --gpg-sign")
			}
			h, err := opts.historyOptions(cmd)
			if err != nil {
				return err
			}
			defer opts.done()
			ro.History = h
			changes, err := promote.Refs(cmd.Context(), ro)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, c := range changes {
				if ro.DryRun {
					fmt.Fprint(out, "would have ")
				}
				fmt.Fprintln(out, c)
			}
			if len(changes) == 0 {
				fmt.Fprintln(out, "every ref names its stream's current build")
			}
			return nil
		},
	}
	opts.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&ro.OSTree.Repo, "ostree-repo", "", "archive ostree repository whose refs follow the current builds")
	f.StringVar(&ro.OSTree.GPGSign, "gpg-sign", "", "GPG key id to sign the ostree summary with")
	f.StringVar(&ro.OSTree.GPGHomedir, "gpg-homedir", "", "GPG home directory for --gpg-sign")
	f.BoolVar(&ro.DryRun, "dry-run", false, "say what would change; change nothing")
	return cmd
}
