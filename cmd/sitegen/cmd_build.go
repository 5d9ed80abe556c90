package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/cli"

	"github.com/projectatomic/atomic-site/internal/builder"
)

type buildOptions struct {
	stateOptions
	out     string
	baseURL string
}

func (o *buildOptions) addFlags(cmd *cobra.Command) {
	o.stateOptions.addFlags(cmd)
	cmd.Flags().StringVar(&o.baseURL, "base-url", "", "the site's URL (default: base-url in the config)")
}

// builderOptions checks the flags and turns them into the builder's options.
func (o *buildOptions) builderOptions(cmd *cobra.Command) (builder.Options, error) {
	h, err := o.historyOptions(cmd)
	if err != nil {
		return builder.Options{}, err
	}
	h.BaseURL = o.baseURL
	return builder.Options{History: h, ProjectDir: o.project, HugoLog: cmd.ErrOrStderr()}, nil
}

func newBuildCommand() *cobra.Command {
	var opts buildOptions
	cmd := &cobra.Command{
		Use:   "build --manifests DIR --keys DIR [--out DIR] [--now RFC3339] [--base-url URL]",
		Short: "Verify the manifests and build the site into --out",
		Long: `Verify every manifest, decide each stream's state and render the site.

If any file fails to verify, nothing is written and --out is left as it was.
The new site is written beside --out and swapped in whole at the end. The
same inputs and --now give byte-identical output.`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			bopts, err := opts.builderOptions(cmd)
			if err != nil {
				return err
			}
			res, err := builder.Build(cmd.Context(), bopts, opts.out)
			if err != nil {
				return err
			}
			abs, _ := filepath.Abs(opts.out)
			fmt.Fprintf(cmd.OutOrStdout(), "built %d pages for %s into %s\n", res.Pages, plural(len(res.State.Streams), "stream"), abs)
			return nil
		},
	}
	opts.addFlags(cmd)
	cmd.Flags().StringVar(&opts.out, "out", "public", "directory to write the site to")
	return cmd
}
