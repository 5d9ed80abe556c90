package main

import (
	"bytes"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/atomicfile"
	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/l10n"
	"github.com/projectatomic/atomic-site/internal/project"
)

type potOptions struct {
	project, config, out string
}

func newPotCommand() *cobra.Command {
	var opts potOptions
	cmd := &cobra.Command{
		Use:   "pot [--project DIR] [--out FILE]",
		Short: "Extract the site's messages into a gettext template, for translators",
		Long: `Extract every message of the templates and the site's own words in its
config (its title, the streams' titles and descriptions) into a gettext
template: po/atomic-site.pot, with where each message is used and, where
it has placeholders, a note to translators. A translator copies it to
po/LANG.po (docs/translating.md). A message with placeholders and no note
is an error naming the template and line.`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := project.Dir(opts.project)
			if err != nil {
				return err
			}
			cfgPath := opts.config
			if cfgPath == "" {
				cfgPath = filepath.Join(dir, config.DefaultPath)
			}
			texts, err := l10n.ConfigTexts(cfgPath)
			if err != nil {
				return err
			}
			msgs, err := l10n.Extract(dir, texts)
			if err != nil {
				return err
			}
			var b bytes.Buffer
			if err := l10n.WritePOT(&b, msgs); err != nil {
				return err
			}
			if opts.out == "" {
				_, err := cmd.OutOrStdout().Write(b.Bytes())
				return err
			}
			return atomicfile.Write(opts.out, b.Bytes(), 0o644)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.project, "project", "", "directory holding site/, templates/ and content/ (default: the ones built into sitegen)")
	f.StringVar(&opts.config, "config", "", "sitegen config file (default: PROJECT/"+config.DefaultPath+")")
	f.StringVar(&opts.out, "out", "", "file to write (default: standard output)")
	return cmd
}
