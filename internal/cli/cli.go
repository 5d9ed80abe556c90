// Package cli holds what sitegen and mirror share as commands: running a
// cobra root with one-line errors and exit codes, usage errors, and the
// slog handler.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// ErrUsage marks errors in how a command was called (exit 2).
var ErrUsage = errors.New("usage")

// Usagef returns a usage error.
func Usagef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUsage}, args...)...)
}

// ExitError carries an exit code of its own, for outcomes that a bot must
// tell apart from failures (promote exits 2 when nothing passed).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Main runs a command's run function with os.Args and the standard
// streams, stopping it on Ctrl-C or SIGTERM, and returns its exit code.
func Main(run func(ctx context.Context, args []string, stdout, stderr io.Writer) int) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

// Run executes root with args and returns the exit code: 0 on success, an
// ExitError's own code, 2 for a usage error, 1 for anything else, the reason printed once, each
// line of a joined error prefixed with the command's name.
func Run(ctx context.Context, root *cobra.Command, args []string, stdout, stderr io.Writer) int {
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SilenceUsage = true
	root.SilenceErrors = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return Usagef("%v", err) })
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(stderr, "%s: %s\n", root.Name(), line)
	}
	var ee *ExitError
	switch {
	case errors.As(err, &ee):
		return ee.Code
	case errors.Is(err, ErrUsage):
		return 2
	}
	return 1
}

// AddLogFlag adds --log-level to root and installs the slog handler, to
// stderr, before any command runs; and the hidden --cpuprofile, which
// writes a CPU profile of a command that succeeds, and --memprofile, a
// heap profile as it ends (for make bench's figures, read with go tool
// pprof).
func AddLogFlag(root *cobra.Command, stderr io.Writer) {
	var level, cpuprofile, memprofile string
	root.PersistentFlags().StringVar(&level, "log-level", "warn", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile to this file")
	root.PersistentFlags().StringVar(&memprofile, "memprofile", "", "write a heap profile to this file")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentFlags().MarkHidden("memprofile")
	var profile *os.File
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		var lvl slog.Level
		if err := lvl.UnmarshalText([]byte(level)); err != nil {
			return Usagef("--log-level %q: want debug, info, warn or error", level)
		}
		slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl})))
		if cpuprofile == "" {
			return nil
		}
		var err error
		if profile, err = os.Create(cpuprofile); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		return pprof.StartCPUProfile(profile)
	}
	root.PersistentPostRunE = func(*cobra.Command, []string) error {
		if memprofile != "" {
			f, err := os.Create(memprofile)
			if err != nil {
				return fmt.Errorf("--memprofile: %w", err)
			}
			defer f.Close()
			runtime.GC() // the heap as it is, not as of the last collection
			if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
				return fmt.Errorf("--memprofile: %w", err)
			}
		}
		if profile == nil {
			return nil
		}
		pprof.StopCPUProfile()
		return profile.Close()
	}
}

// ExactArgs reports a wrong argument count as a usage error.
func ExactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return Usagef("%s: %v", cmd.Name(), err)
		}
		return nil
	}
}

// RangeArgs reports a wrong argument count as a usage error.
func RangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.RangeArgs(lo, hi)(cmd, args); err != nil {
			return Usagef("%s: %v", cmd.Name(), err)
		}
		return nil
	}
}

// MinArgs reports too few arguments as a usage error.
func MinArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.MinimumNArgs(n)(cmd, args); err != nil {
			return Usagef("%s: %v", cmd.Name(), err)
		}
		return nil
	}
}

// Required reports missing flags as a usage error.
func Required(cmd *cobra.Command, flags ...string) error {
	for _, f := range flags {
		if !cmd.Flags().Changed(f) {
			return Usagef("%s: --%s is required", cmd.Name(), f)
		}
	}
	return nil
}
