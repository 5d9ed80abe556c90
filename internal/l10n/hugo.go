package l10n

import (
	"encoding/json"
	"fmt"

	"golang.org/x/text/feature/plural"
)

// cldr names CLDR's plural categories as Hugo's i18n files do.
var cldr = map[plural.Form]string{
	plural.Other: "other", plural.Zero: "zero", plural.One: "one",
	plural.Two: "two", plural.Few: "few", plural.Many: "many",
}

// HugoJSON is the language's messages as Hugo's T reads them
// (i18n/KEY.json): each by its key, a plural one by CLDR category. Hugo
// picks a plural's form by CLDR's rules for the language, gettext by the
// catalog's Plural-Forms: each category takes the form the catalog gives
// its counts, and a catalog that gives two counts of one category
// different forms is refused, as Hugo could not tell them apart.
func (l *Language) HugoJSON() ([]byte, error) {
	byCategory := map[plural.Form]int{}
	for n := range 1000 {
		f := plural.Cardinal.MatchPlural(l.Tag, n, 0, 0, 0, 0)
		i := l.plural(n)
		if j, ok := byCategory[f]; ok && j != i {
			return nil, fmt.Errorf("%s: Plural-Forms gives %d form %d, and another count of its CLDR category (%s) form %d: Hugo picks forms by CLDR category", l.where(), n, i, cldr[f], j)
		}
		byCategory[f] = i
	}
	out := make(map[string]any, len(l.forms))
	for k, forms := range l.forms {
		if len(forms) == 1 {
			out[k] = forms[0]
			continue
		}
		m := map[string]string{}
		for f, i := range byCategory {
			m[cldr[f]] = forms[i]
		}
		out[k] = m
	}
	return json.MarshalIndent(out, "", "  ")
}

func (l *Language) where() string {
	if l.File != "" {
		return l.File
	}
	return l.Tag.String()
}
