package builder

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/language"

	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/l10n"
	"github.com/projectatomic/atomic-site/internal/render"
	"github.com/projectatomic/atomic-site/internal/view"
)

// languages loads the site's languages (l10n.Languages) as Hugo takes
// them.
func languages(opts Options, cfg *config.Config) ([]render.Language, error) {
	langs, err := l10n.Languages(opts.ProjectDir, l10n.Texts(cfg, "", ""), opts.Langs)
	if err != nil {
		return nil, err
	}
	var out []render.Language
	for _, l := range langs {
		data, err := l.HugoJSON()
		if err != nil {
			return nil, err
		}
		out = append(out, render.Language{Key: l.Key(), Tag: l.Tag.String(), Name: l.Name, RTL: l.RTL, Messages: data})
	}
	return out, nil
}

// withLanguageRedirects adds to the site's _redirects (Netlify's) the
// rules that send a visitor of / to the home page in their browser's
// language, where the site has it: a 302, so that the choice is made
// again on the next visit. The rule matches / alone, so a page's address
// is never redirected, and /en/ is the English home page for whoever
// chose English (the language selector links it): rewritten to /, not
// redirected. The rules are forced (302!): / has a page, which Netlify
// would serve instead of an unforced rule. Pseudo-locales are never a
// redirect's target.
func withLanguageRedirects(outs []view.File, langs []render.Language) []view.File {
	var rules []string
	for _, l := range langs[1:] {
		if l10n.IsPseudo(l.Tag) {
			continue
		}
		// Netlify compares the first two letters of the browser's first
		// language: the base language, pt for pt-BR.
		base, _ := language.Make(l.Tag).Base()
		rules = append(rules, fmt.Sprintf("/ /%s/ 302! Language=%s", l.Key, base))
	}
	if len(rules) == 0 {
		return outs
	}
	// Forced too: Hugo's alias page at /en/ would send a visitor to /.
	rules = append(rules, fmt.Sprintf("/%s/ / 200!", langs[0].Key))
	i := slices.IndexFunc(outs, func(f view.File) bool { return f.Path == "_redirects" })
	if i < 0 {
		return outs
	}
	out := slices.Clone(outs)
	head := "# The home page in the visitor's language.\n" + strings.Join(rules, "\n") + "\n"
	out[i].Data = append([]byte(head), outs[i].Data...)
	return out
}
