package l10n

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
)

// PODir is where the catalogs are, below the project's root.
const PODir = "po"

// Languages lists the site's languages: English, with every message of
// the project's templates and of texts; then each po/LANG.po that
// translates at least one of them, by tag; then the pseudo-locales asked
// for. A catalog that translates nothing is left out, with a notice: a
// language with no translated page is not listed.
func Languages(projectDir string, texts []Message, pseudo []string) ([]*Language, error) {
	msgs, err := Extract(projectDir, texts)
	if err != nil {
		return nil, err
	}
	langs := []*Language{English(msgs)}
	files, err := filepath.Glob(filepath.Join(projectDir, PODir, "*.po"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	for _, f := range files {
		l, err := LoadPO(f, msgs)
		if err != nil {
			return nil, err
		}
		if l.Translated() == 0 {
			slog.Warn("a catalog that translates nothing is left out", "file", f)
			continue
		}
		if l.Key() == "en" || IsPseudo(l.Tag.String()) {
			return nil, fmt.Errorf("%s: %s is the site's own language or a pseudo-locale, not one to translate into", f, l.Tag)
		}
		langs = append(langs, l)
	}
	for _, p := range pseudo {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if slices.ContainsFunc(langs, func(l *Language) bool { return strings.EqualFold(l.Tag.String(), p) }) {
			continue
		}
		l, err := Pseudo(p, msgs)
		if err != nil {
			return nil, err
		}
		langs = append(langs, l)
	}
	return langs, nil
}
