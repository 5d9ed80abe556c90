package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/lockfile"
	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/store"
)

func newUnlockCommand() *cobra.Command {
	var so storeOptions
	var yes bool
	cmd := &cobra.Command{
		Use:   "unlock DEST",
		Short: "Remove a destination's lease, left by a run that is dead, after asking",
		Long: `Remove the lease (.mirror/lock) of an S3 destination, after showing who
holds it and asking. Only for a run known to be dead: a lease expires by
itself within minutes, and a run of this host that was killed loses it to
the next run at once. A local directory's lock is an flock, which the
kernel releases when its process ends: unlock only says who holds it.`,
		Args: cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUnlock(cmd.Context(), cmd, so, args[0], yes)
		},
	}
	so.addFlags(cmd)
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask")
	return cmd
}

func runUnlock(ctx context.Context, cmd *cobra.Command, so storeOptions, dest string, yes bool) error {
	d, err := openDest(ctx, dest, so, true)
	if err != nil {
		return err
	}
	defer d.Close()
	out := cmd.OutOrStdout()
	ls, ok := d.(mirror.LeaseStore)
	if !ok {
		// A local flock: take it and let it go, or say who has it.
		if _, err := os.Stat(filepath.Join(dest, filepath.FromSlash(store.LockKey))); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(out, "%s: no run holds it\n", dest)
			return nil
		}
		_, lease, err := mirror.Lock(ctx, d, dest, holder(), mirror.LeaseOptions{Alive: lockfile.Alive})
		var locked *store.LockedError
		if errors.As(err, &locked) {
			return &cli.ExitError{Code: exitLocked, Err: fmt.Errorf("%s: locked by a running sync (%s); a directory's lock is an flock that ends with its process, which unlock cannot release: wait for it, or stop it (kill %d) if it must not finish",
				dest, locked.Holder, locked.Holder.PID)}
		}
		if err != nil {
			return err
		}
		lease.Release(ctx)
		fmt.Fprintf(out, "%s: no run holds it\n", dest)
		return nil
	}
	h, _, err := ls.ReadLease(ctx)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(out, "%s: no lease\n", dest)
		return nil
	}
	if err != nil {
		// An unreadable lease is still removable.
		fmt.Fprintf(out, "%s: %s cannot be read: %v\n", dest, store.LockKey, err)
	} else {
		fmt.Fprintf(out, "%s: leased by %s\n", dest, h)
	}
	if !yes {
		if !term.IsTerminal(int(os.Stdin.Fd())) {
			return cli.Usagef("unlock: not asking without a terminal; pass --yes to remove the lease")
		}
		fmt.Fprint(out, "Remove it? Only if that run is dead. [y/N] ")
		line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			return fmt.Errorf("%s: lease kept", dest)
		}
	}
	if err := ls.DeleteLease(ctx); err != nil {
		return fmt.Errorf("%s: remove %s: %w", dest, store.LockKey, err)
	}
	fmt.Fprintf(out, "%s: lease removed\n", dest)
	return nil
}
