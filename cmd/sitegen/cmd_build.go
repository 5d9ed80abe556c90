package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/l10n"

	"github.com/projectatomic/atomic-site/internal/builder"
	"github.com/projectatomic/atomic-site/internal/bytesize"
	"github.com/projectatomic/atomic-site/internal/trust"
)

type buildOptions struct {
	stateOptions
	out           string
	baseURL       string
	previous      string
	allowRollback bool
	signKey       string
	validFor      time.Duration
	langs         []string
}

func (o *buildOptions) addFlags(cmd *cobra.Command) {
	o.stateOptions.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.baseURL, "base-url", "", "the site's URL (default: base-url in the config)")
	f.StringVar(&o.previous, "previous", "", "the published site the build must not roll back, a directory or URL (default: --out, when it holds a site)")
	f.BoolVar(&o.allowRollback, "allow-rollback", false, "publish even if a stream would go back: a build gone, a revocation gone, an older current build")
	f.StringVar(&o.signKey, "sign-key", "", "the site key (not a release key): sign index.json, the index of what tools read")
	f.DurationVar(&o.validFor, "valid-for", builder.DefaultValidFor, "with --sign-key: how long the signed index is valid")
	f.StringSliceVar(&o.langs, "langs", nil, "pseudo-locales to build as well, to review the site's translatability: en-XA, ar-XB (po/'s languages are always built)")
}

// builderOptions checks the flags and turns them into the builder's options.
func (o *buildOptions) builderOptions(cmd *cobra.Command) (builder.Options, error) {
	h, err := o.historyOptions(cmd)
	if err != nil {
		return builder.Options{}, err
	}
	h.BaseURL = o.baseURL
	opts := builder.Options{History: h, ProjectDir: o.projectDir, HugoLog: cmd.ErrOrStderr(),
		Previous: o.previous, AllowRollback: o.allowRollback, ValidFor: o.validFor}
	if cmd.Flags().Changed("valid-for") && o.signKey == "" {
		return opts, cli.Usagef("--valid-for applies only with --sign-key")
	}
	if o.validFor <= 0 {
		return opts, cli.Usagef("--valid-for %s: want a positive duration, like 72h", o.validFor)
	}
	for _, l := range o.langs {
		if !l10n.IsPseudo(l) {
			return opts, cli.Usagef("--langs %s: only the pseudo-locales %s; a language is built from its catalog, po/LANG.po", l, strings.Join(l10n.PseudoTags, " and "))
		}
	}
	opts.Langs = o.langs
	if o.signKey != "" {
		s, err := trust.LoadSigner(o.signKey)
		if err != nil {
			return opts, err
		}
		opts.SignKey = s
	}
	return opts, nil
}

func newBuildCommand() *cobra.Command {
	var opts buildOptions
	cmd := &cobra.Command{
		Use:   "build --manifests DIR|s3://BUCKET/PREFIX --keys DIR [--endpoint URL] [--out DIR] [--now RFC3339] [--base-url URL]",
		Short: "Verify the manifests and build the site into --out",
		Long: `Verify every manifest, decide each stream's state and render the site.

With --manifests s3://BUCKET/PREFIX (and --endpoint for S3-compatible
servers), the signed manifests are read from the bucket mirror sync
published them to, after their files: no page then links a file the
mirror lacks.

If any file fails to verify, nothing is written and --out is left as it was.
The new site is written beside --out and swapped in whole at the end. The
same inputs and --now give byte-identical output.`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer opts.done()
			bopts, err := opts.builderOptions(cmd)
			if err != nil {
				return err
			}
			limitMemory()
			res, err := builder.Build(cmd.Context(), bopts, opts.out)
			if err != nil {
				return err
			}
			if res.Leftovers > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "removed %d staging directories left by killed builds, freeing %s\n", res.Leftovers, bytesize.Format(res.Freed))
			}
			abs, _ := filepath.Abs(opts.out)
			in := ""
			if len(res.Languages) > 1 {
				in = " in " + strings.Join(res.Languages, ", ")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "built %d pages%s for %s into %s\n", res.Pages, in, plural(len(res.Streams), "stream"), abs)
			return nil
		},
	}
	opts.addFlags(cmd)
	cmd.Flags().StringVar(&opts.out, "out", "public", "directory to write the site to")
	return cmd
}

// buildMemoryLimit is the Go heap a build keeps to, unless GOMEMLIMIT
// says otherwise: ten years of history (10,000 builds) fit in it, and past
// it the collector works harder rather than the process growing (Hugo
// holds every page at once; collected only at twice the live heap, a
// build at that size took 1.2 GB, and 760 MB with this limit, in the same
// time). serve sets none: it keeps more between rebuilds, and a limit
// below that makes every rebuild collect again and again.
const buildMemoryLimit = 700 << 20

func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(buildMemoryLimit)
	}
}
