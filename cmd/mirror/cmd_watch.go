package main

import (
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/watch"
)

type watchOptions struct {
	syncOptions
	debounce time.Duration
}

func newWatchCommand() *cobra.Command {
	var opts watchOptions
	cmd := &cobra.Command{
		Use:   "watch SRC DEST",
		Short: "Sync SRC to DEST now, and again whenever SRC changes (a new compose lands)",
		Long: `Sync once, then watch SRC and sync again when it changes, after it has
been quiet for --debounce. A failed sync is logged; the next change tries
again. Stops on Ctrl-C.`,
		Args: cli.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			limitMemory()
			if strings.Contains(args[0], "://") {
				return cli.Usagef("watch: SRC must be a local directory to watch; run mirror sync %s from a timer instead", args[0])
			}
			syncNow := func() {
				if err := runSync(ctx, cmd, opts.syncOptions, args); err != nil && ctx.Err() == nil {
					slog.Error("sync failed; will try again on the next change", "err", err)
				}
			}
			syncNow()
			return watch.Dirs(ctx, []string{args[0]}, opts.debounce, func(changed []string) {
				slog.Info("source changed", "files", len(changed))
				syncNow()
			})
		},
	}
	opts.addFlags(cmd)
	cmd.Flags().DurationVar(&opts.debounce, "debounce", 2*time.Second, "quiet time after the last change before syncing")
	return cmd
}
