package l10n

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// The pseudo-locales, as Android and Chromium name them. Built when asked
// (sitegen build --langs en-XA,ar-XB), never by default.
const (
	// PseudoAccents: every letter accented, each message 40% longer and
	// in brackets, so that a string not from the catalog, or one cut
	// short, shows.
	PseudoAccents = "en-XA"
	// PseudoBidi: right to left, each word shown reversed, so that a
	// layout that does not mirror shows.
	PseudoBidi = "ar-XB"
)

// PseudoTags are the pseudo-locales' tags.
var PseudoTags = []string{PseudoAccents, PseudoBidi}

// arabicPlural is Arabic's Plural-Forms, which ar-XB keeps: six forms.
const arabicPlural = "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);"

// Pseudo makes the pseudo-locale tag (PseudoAccents or PseudoBidi, in
// any case) of msgs.
func Pseudo(tag string, msgs []Message) (*Language, error) {
	var tr func(string) string
	// language.Make spells the tag as PseudoTags do: en-xa is en-XA.
	l := newLanguage(language.Make(tag), "")
	l.Pseudo = true
	switch l.Tag.String() {
	case PseudoAccents:
		l.Name, tr = "English (pseudo-accents)", accent
	case PseudoBidi:
		l.Name, l.RTL, tr = "Arabic (pseudo-bidi)", true, bidi
		if err := l.setPlural(arabicPlural); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("pseudo-locale %q: there are %s", tag, strings.Join(PseudoTags, " and "))
	}
	l.Name = tr(l.Name)
	for _, m := range msgs {
		if m.Plural == "" {
			l.forms[m.Key()] = []string{goFormat(tr(m.ID))}
			continue
		}
		forms := make([]string, l.nplurals)
		for i := range forms {
			// The form of one is the singular; every other, the plural.
			forms[i] = goFormat(tr(m.Plural))
			if i == l.plural(1) {
				forms[i] = goFormat(tr(m.ID))
			}
		}
		l.forms[m.Key()] = forms
	}
	return l, nil
}

// IsPseudo reports whether tag names a pseudo-locale.
func IsPseudo(tag string) bool {
	return slices.ContainsFunc(PseudoTags, func(t string) bool { return strings.EqualFold(t, tag) })
}

var accents = strings.NewReplacer(
	"a", "å", "b", "ƀ", "c", "ç", "d", "ð", "e", "é", "f", "ƒ", "g", "ĝ", "h", "ĥ", "i", "î",
	"j", "ĵ", "k", "ķ", "l", "ļ", "m", "ɱ", "n", "ñ", "o", "ö", "p", "þ", "q", "ǫ", "r", "ŕ",
	"s", "š", "t", "ţ", "u", "û", "v", "ṽ", "w", "ŵ", "x", "ẋ", "y", "ý", "z", "ž",
	"A", "Å", "B", "Ɓ", "C", "Ç", "D", "Ð", "E", "É", "F", "Ƒ", "G", "Ĝ", "H", "Ĥ", "I", "Î",
	"J", "Ĵ", "K", "Ķ", "L", "Ļ", "M", "Ṁ", "N", "Ñ", "O", "Ö", "P", "Þ", "Q", "Ǫ", "R", "Ŕ",
	"S", "Š", "T", "Ţ", "U", "Û", "V", "Ṽ", "W", "Ŵ", "X", "Ẋ", "Y", "Ý", "Z", "Ž",
)

// padding lengthens a message: translations run longer than English.
var padding = strings.Fields("öñé ţŵö ţĥŕéé ƒöûŕ ƒîṽé šîẋ šéṽéñ éîĝĥţ ñîñé ţéñ")

// accent is en-XA's form of s: its letters accented (not its
// placeholders), 40% longer, in brackets.
func accent(s string) string {
	out := mapText(s, accents.Replace)
	var pad []string
	for want, i := (len([]rune(s))*2+4)/5, 0; want > 0; i++ {
		w := padding[i%len(padding)]
		pad = append(pad, w)
		want -= len([]rune(w)) + 1
	}
	return "[" + out + " " + strings.Join(pad, " ") + "]"
}

// bidi is ar-XB's form of s: each word written right to left (an RLO
// before it, a PDF after), the whole marked right to left (RLM).
func bidi(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		words[i] = mapText(w, func(t string) string { return "\u202e" + t + "\u202c" })
	}
	return "\u200f" + strings.Join(words, " ") + "\u200f"
}

// mapText applies f to the text of s between its placeholders.
func mapText(s string, f func(string) string) string {
	var b strings.Builder
	last := 0
	for _, loc := range verb.FindAllStringIndex(s, -1) {
		if loc[0] > last {
			b.WriteString(f(s[last:loc[0]]))
		}
		b.WriteString(s[loc[0]:loc[1]])
		last = loc[1]
	}
	if last < len(s) {
		b.WriteString(f(s[last:]))
	}
	return b.String()
}
