package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/trust"
)

type verifyOptions struct {
	storeOptions
	against   string
	deep      bool
	keys      string
	manifests string
}

func newVerifyCommand() *cobra.Command {
	var opts verifyOptions
	cmd := &cobra.Command{
		Use:   "verify DEST [--against SRC] [--deep]",
		Short: "Check a mirror: every ref whole, every source object, and with --deep their content",
		Long: `Check a mirror and list every problem; exit non-zero if there is any.

For an ostree repository: every ref, and every ref the summary names,
agree and are whole: the commit, and every dirtree, dirmeta and file
object it needs, are present (each missing object is named with the ref
that needs it). Incomplete uploads and temporary files left by killed
runs, and symbolic links, are reported too. With --against
SRC, every file of the source is present with the right size. With
--deep, every object is downloaded and its checksum recomputed as ostree
does (for a .filez, over its header and uncompressed content) and checked
against its name, and release images against
their manifests (with --keys, the manifests' signatures too).`,
		Args: cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.Context(), cmd, opts, args[0])
		},
	}
	opts.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.against, "against", "", "source to compare with: every file must be present with the right size")
	f.BoolVar(&opts.deep, "deep", false, "download every object and image and check its content against its checksum")
	f.StringVar(&opts.keys, "keys", "", "trusted keys: check release manifests' signatures")
	f.StringVar(&opts.manifests, "manifests", "", "signed manifests (with --keys): every ref must point at a commit a released, unrevoked build names")
	return cmd
}

func runVerify(ctx context.Context, cmd *cobra.Command, opts verifyOptions, dest string) error {
	dst, err := openDest(ctx, dest, opts.storeOptions, true)
	if err != nil {
		return err
	}
	defer dst.Close()
	if opts.manifests != "" && opts.keys == "" {
		return cli.Usagef("verify: --manifests needs --keys, to verify them")
	}
	vopts := mirror.VerifyOptions{Deep: opts.deep, Jobs: opts.jobs}
	if lo, ok := dst.(mirror.Leftovers); ok {
		vopts.Leftovers = lo
	}
	var keys *trust.Keyring
	if opts.keys != "" {
		if keys, err = trust.LoadKeys(opts.keys); err != nil {
			return err
		}
		vopts.Keys = keys
	}
	if opts.manifests != "" {
		cat, err := catalog.Load(ctx, opts.manifests, keys)
		if err != nil {
			return err
		}
		vopts.Gate = mirror.NewGate(cat)
	}
	switch {
	case strings.HasPrefix(opts.against, "http://") || strings.HasPrefix(opts.against, "https://"):
		if vopts.Against, err = mirror.OpenHTTP(ctx, opts.against, mirror.RemoteOptions{Retry: retryPolicy()}); err != nil {
			return err
		}
	case opts.against != "":
		if vopts.Against, err = mirror.Open(ctx, opts.against, keys); err != nil {
			return err
		}
	}
	rep, err := mirror.Verify(ctx, mirror.Retry(dst, retryPolicy()), vopts)
	if err != nil {
		return fmt.Errorf("%s: %w", dest, err)
	}
	out := cmd.OutOrStdout()
	for _, p := range rep.Problems {
		fmt.Fprintln(out, p)
	}
	switch t := rep.Trace; {
	case t == nil:
		fmt.Fprintf(out, "%s: no trace: no sync has completed here yet\n", dest)
	case opts.against != "" && len(rep.Behind) == 0:
		fmt.Fprintf(out, "%s: up to date with %s (last sync %s, %s ago)\n", dest, opts.against, t.Time.Format(time.RFC3339), since(t.Time))
	case opts.against != "":
		fmt.Fprintf(out, "%s: behind %s (last sync %s, %s ago):\n", dest, opts.against, t.Time.Format(time.RFC3339), since(t.Time))
		for _, b := range rep.Behind {
			fmt.Fprintf(out, "  %s\n", b)
		}
	default:
		fmt.Fprintf(out, "%s: last sync %s (%s ago) from %s by %s\n", dest, t.Time.Format(time.RFC3339), since(t.Time), sourceName(t.Source), t.Host)
	}
	if t := rep.Trace; t != nil {
		printUpstreams(out, t)
	}
	if n := len(rep.Problems); n > 0 {
		return fmt.Errorf("%s: %d problems", dest, n)
	}
	fmt.Fprintf(out, "%s: %d objects, no problems\n", dest, rep.Objects)
	return nil
}

// printUpstreams follows a trace's chain of upstream traces: how far
// behind its own upstream each mirror was when it was read, up to the
// primary.
func printUpstreams(out io.Writer, t *mirror.Trace) {
	for depth := 0; depth < 10 && t.Source.Upstream != nil; depth++ {
		var up mirror.Trace
		if err := json.Unmarshal(t.Source.Upstream, &up); err != nil {
			fmt.Fprintf(out, "  upstream %s: its trace cannot be read: %v\n", t.Source.Path, err)
			return
		}
		fmt.Fprintf(out, "  upstream %s had last synced %s from %s, %s before this mirror read it\n",
			t.Source.Path, up.Time.Format(time.RFC3339), sourceName(up.Source), t.Source.UpstreamRead.Sub(up.Time).Round(time.Second))
		t = &up
	}
}

// sourceName is how a trace's source is called: its URL, or, for a local
// one the trace does not name, what kind it was.
func sourceName(st mirror.SourceState) string {
	if st.Path != "" {
		return st.Path
	}
	return "a local directory (" + st.Kind + ")"
}

// since is how long ago t was, to the minute.
func since(t time.Time) string {
	return time.Since(t).Round(time.Minute).String()
}
