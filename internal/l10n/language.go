package l10n

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/leonelquinteros/gotext"
	"github.com/leonelquinteros/gotext/plurals"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Language is one language's messages.
type Language struct {
	Tag language.Tag
	// Name is the language's name in itself, for the language selector.
	Name string
	RTL  bool
	// File is the catalog it was read from; empty for English and the
	// pseudo-locales.
	File string
	// Pseudo marks a pseudo-locale: built when asked, never by default.
	Pseudo bool
	// forms holds each translated message by Key: its translation, or its
	// plural forms by gettext's index, with Go's placeholders.
	forms map[string][]string
	// plural is gettext's plural index of a count.
	plural   func(n int) int
	nplurals int
}

// Key is the language's name in Hugo's config and in the site's paths:
// its tag, lower case.
func (l *Language) Key() string { return strings.ToLower(l.Tag.String()) }

// Translated is how many messages the language translates.
func (l *Language) Translated() int { return len(l.forms) }

// newLanguage is a language with no messages yet and Germanic plurals
// (one, other), gettext's default without a Plural-Forms.
func newLanguage(tag language.Tag, name string) *Language {
	return &Language{Tag: tag, Name: name, forms: map[string][]string{}, plural: germanic, nplurals: 2}
}

// English is the site's own language: every message, as extracted.
func English(msgs []Message) *Language {
	l := newLanguage(language.English, "English")
	for _, m := range msgs {
		if m.Plural == "" {
			l.forms[m.Key()] = []string{goFormat(m.ID)}
		} else {
			l.forms[m.Key()] = []string{goFormat(m.ID), goFormat(m.Plural)}
		}
	}
	return l
}

func germanic(n int) int {
	if n == 1 {
		return 0
	}
	return 1
}

// rtlScripts are the scripts written right to left.
var rtlScripts = []string{"Arab", "Hebr", "Thaa", "Syrc", "Nkoo", "Adlm", "Rohg", "Mand", "Samr"}

func named(tag language.Tag) string {
	if n := display.Self.Name(tag); n != "" {
		return n
	}
	return tag.String()
}

// LoadPO reads the catalog file, po/LANG.po, and keeps its translations
// of msgs. A translation whose placeholders differ from the English, a
// plural message without every form its Plural-Forms asks for, and a
// Plural-Forms that does not parse are each refused, naming the file, the
// line and the message. A message it lacks, or marks fuzzy, falls back to
// English.
func LoadPO(file string, msgs []Message) (*Language, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(file), ".po")
	tag, err := language.Parse(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not a language tag (name the file po/LANG.po, LANG as in de or pt-BR): %w", file, name, err)
	}
	po := gotext.NewPo()
	po.Parse(data)
	dom := po.GetDomain()
	lines := index(data)
	l := newLanguage(tag, named(tag))
	l.File = file
	// The script is the tag's own, or the one the language is most
	// likely written in (Arab for ar).
	script, _ := tag.Script()
	l.RTL = slices.Contains(rtlScripts, script.String())
	if pf := dom.PluralForms; pf != "" {
		if err := l.setPlural(pf); err != nil {
			return nil, fmt.Errorf("%s:%d: Plural-Forms %q: %w", file, lines.header, pf, err)
		}
	}
	byID := map[string]Message{}
	for _, m := range msgs {
		byID[m.ID] = m
	}
	trs := dom.GetTranslations()
	for _, id := range slices.Sorted(maps.Keys(trs)) {
		tr := trs[id]
		m, ok := byID[id]
		where := lines.msgs[id]
		if !ok || id == "" || where.fuzzy {
			continue // obsolete, the header, or not yet reviewed
		}
		at := fmt.Sprintf("%s:%d: msgid %q", file, where.line, id)
		if m.Plural == "" {
			s := tr.Trs[0]
			if tr.PluralID != "" {
				return nil, fmt.Errorf("%s: has a plural; the English has none", at)
			}
			if s == "" {
				continue
			}
			if err := samePlaceholders(s, m.ID); err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			l.forms[m.Key()] = []string{goFormat(s)}
			continue
		}
		if tr.PluralID == "" {
			return nil, fmt.Errorf("%s: has no msgid_plural; the English is plural (%q)", at, m.Plural)
		}
		var forms []string
		for i := range max(l.nplurals, len(tr.Trs)) {
			forms = append(forms, tr.Trs[i])
		}
		if strings.Join(forms, "") == "" {
			continue
		}
		if dom.PluralForms == "" {
			return nil, fmt.Errorf("%s: a plural translation, and no Plural-Forms header", at)
		}
		if len(tr.Trs) != l.nplurals {
			return nil, fmt.Errorf("%s: %d plural forms; Plural-Forms says nplurals=%d", at, len(tr.Trs), l.nplurals)
		}
		for i, s := range forms {
			if s == "" {
				return nil, fmt.Errorf("%s: msgstr[%d] is empty; a plural is translated in every form or none", at, i)
			}
			// A form may leave out a count that is its only
			// placeholder: "one file", "a day".
			if p, err := placeholders(s); err == nil && p == "" {
				if want, _ := placeholders(m.Plural); want == "d" {
					forms[i] = goFormat(s)
					continue
				}
			}
			if err := samePlaceholders(s, m.Plural); err != nil {
				return nil, fmt.Errorf("%s: msgstr[%d]: %w", at, i, err)
			}
			forms[i] = goFormat(s)
		}
		l.forms[m.Key()] = forms
	}
	return l, nil
}

// setPlural parses a Plural-Forms header and checks that each count's
// form is one of nplurals.
func (l *Language) setPlural(pf string) error {
	var n int
	var expr string
	for part := range strings.SplitSeq(pf, ";") {
		k, v, _ := strings.Cut(part, "=")
		switch strings.TrimSpace(k) {
		case "nplurals":
			var err error
			if n, err = strconv.Atoi(strings.TrimSpace(v)); err != nil || n < 1 {
				return fmt.Errorf("nplurals %q is not a count", strings.TrimSpace(v))
			}
		case "plural":
			expr = strings.TrimSpace(v)
		}
	}
	if n == 0 || expr == "" {
		return fmt.Errorf("needs nplurals=N; plural=EXPRESSION")
	}
	e, err := plurals.Compile(expr)
	if err != nil {
		return fmt.Errorf("plural: %w", err)
	}
	for c := range uint32(1000) {
		if i := e.Eval(c); i < 0 || i >= n {
			return fmt.Errorf("plural gives form %d for %d, and there are %d forms", i, c, n)
		}
	}
	l.nplurals, l.plural = n, func(c int) int { return e.Eval(uint32(c)) }
	return nil
}

// samePlaceholders checks that a translation has the English's
// placeholders: the same arguments, each of the same kind.
func samePlaceholders(tr, en string) error {
	want, err := placeholders(en)
	if err != nil {
		return err
	}
	got, err := placeholders(tr)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("placeholders %s, and the English has %s", describe(got), describe(want))
	}
	return nil
}

func describe(args string) string {
	if args == "" {
		return "none"
	}
	var out []string
	for _, v := range args {
		out = append(out, "%"+string(v))
	}
	return strings.Join(out, " ")
}

// poLines says where each msgid of a catalog is, and whether it is fuzzy.
type poLines struct {
	header int
	msgs   map[string]poEntry
}

type poEntry struct {
	line  int
	fuzzy bool
}

// index finds the line of each msgid of a PO file (its strings may span
// lines) and its flags: gotext keeps neither.
func index(data []byte) poLines {
	out := poLines{msgs: map[string]poEntry{}}
	lines := bytes.Split(data, []byte("\n"))
	fuzzy := false
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(string(lines[i]))
		switch {
		case strings.HasPrefix(l, "#,"):
			fuzzy = strings.Contains(l, "fuzzy")
		case strings.HasPrefix(l, "msgid "):
			start := i
			id, _ := strconv.Unquote(strings.TrimSpace(l[len("msgid "):]))
			for i+1 < len(lines) && strings.HasPrefix(strings.TrimSpace(string(lines[i+1])), `"`) {
				i++
				s, _ := strconv.Unquote(strings.TrimSpace(string(lines[i])))
				id += s
			}
			if id == "" && out.header == 0 {
				out.header = start + 1
			}
			out.msgs[id] = poEntry{line: start + 1, fuzzy: fuzzy}
			fuzzy = false
		case l == "":
			fuzzy = false
		}
	}
	return out
}
