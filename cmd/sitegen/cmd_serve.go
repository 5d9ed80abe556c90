package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/builder"
	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/preview"
)

type serveOptions struct {
	buildOptions
	addr string
}

func newServeCommand() *cobra.Command {
	var opts serveOptions
	cmd := &cobra.Command{
		Use:   "serve --manifests DIR --keys DIR [--addr 127.0.0.1:1313]",
		Short: "Build the site, serve it on loopback, and rebuild when anything changes",
		Long: `Build the site, serve it on a loopback address, and rebuild incrementally
whenever a file changes under the manifests, the keys, site/, templates/ or
content/. A rebuild that fails (a bad manifest, a broken template) is logged
and the last good site goes on being served. It rebuilds too when the
clock reaches a moment the site changes by itself: a stream turns stale,
a release day passes. Each rebuild prints one line: what changed, how many
pages were rendered and how long it took, or why it failed.`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			bopts, err := opts.builderOptions(cmd)
			if err != nil {
				return err
			}
			return runServe(cmd.Context(), cmd, bopts, opts.addr)
		},
	}
	opts.addFlags(cmd)
	cmd.Flags().StringVar(&opts.addr, "addr", "127.0.0.1:1313", "loopback address to serve on")
	return cmd
}

func runServe(ctx context.Context, cmd *cobra.Command, opts builder.Options, addr string) error {
	if err := checkLoopback(addr); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	return preview.Serve(ctx, opts, ln, func(url string) {
		fmt.Fprintf(out, "serving %s (Ctrl-C to stop)\n", url)
	}, func(line string) {
		fmt.Fprintf(out, "%s %s\n", time.Now().Format("15:04:05"), line)
	})
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return cli.Usagef("--addr %q: %v", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return cli.Usagef("--addr %q: serve listens on loopback only (127.0.0.1, ::1, localhost)", addr)
	}
	return nil
}
