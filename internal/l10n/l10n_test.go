package l10n

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

var update = flag.Bool("update", false, "rewrite po/atomic-site.pot")

const repo = "../.."

// The committed template is what make pot makes of the templates and
// site/sitegen.toml: a message added to a template reaches translators.
func TestPOTUpToDate(t *testing.T) {
	texts, err := ConfigTexts(filepath.Join(repo, "site", "sitegen.toml"))
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := Extract(repo, texts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WritePOT(&b, msgs); err != nil {
		t.Fatal(err)
	}
	pot := filepath.Join(repo, PODir, Domain+".pot")
	if *update {
		if err := os.WriteFile(pot, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(pot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("%s is not what make pot makes: run make pot (or go test -update) and commit it", pot)
	}
	// Every message with placeholders carries its note to translators.
	for _, m := range msgs {
		if strings.Contains(m.Key(), "%") && m.Comment == "" {
			t.Errorf("%s: %q has no comment", m.Refs[0], m.Key())
		}
	}
}

func project(t *testing.T, tmpl string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, TemplatesDir, "_partials"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, TemplatesDir, "_partials", "x.html"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestExtract(t *testing.T) {
	dir := project(t, `<p>{{ T "Hello" }}</p>
{{/* TRANSLATORS: %s is a release. */}}
<p>{{ partial "t.html" (slice "Build %s" .release) }} {{ partial "t.html" (slice "%d file|%d files" 3) }}</p>
{{ T "Hello" }}
`)
	msgs, err := Extract(dir, nil)
	if err == nil {
		t.Fatalf("a plural with a placeholder and no comment was not refused: %+v", msgs)
	}
	if !strings.Contains(err.Error(), "templates/_partials/x.html:3") || !strings.Contains(err.Error(), "%d file|%d files") {
		t.Errorf("error does not name the template, line and message: %v", err)
	}
	dir = project(t, `<p>{{ T "Hello" }}</p>
{{/* TRANSLATORS: %s is a release. */}}
<p>{{ partial "t.html" (slice "Build %s" .release) }}</p>
{{/* TRANSLATORS: %d is a count. */}}{{ partial "t.html" (slice "%d file|%d files" 3) }}
{{ T "Hello" }}
`)
	msgs, err = Extract(dir, []Message{{ID: "Stable", Refs: []string{"site/sitegen.toml:3"}, Comment: "A title."}})
	if err != nil {
		t.Fatal(err)
	}
	want := []Message{
		{ID: "Stable", Refs: []string{"site/sitegen.toml:3"}, Comment: "A title."},
		{ID: "Hello", Refs: []string{"templates/_partials/x.html:1", "templates/_partials/x.html:5"}},
		{ID: "Build %s", Refs: []string{"templates/_partials/x.html:3"}, Comment: "%s is a release."},
		{ID: "%d file", Plural: "%d files", Refs: []string{"templates/_partials/x.html:4"}, Comment: "%d is a count."},
	}
	if len(msgs) != len(want) {
		t.Fatalf("got %+v", msgs)
	}
	for i := range want {
		if msgs[i].Key() != want[i].Key() || strings.Join(msgs[i].Refs, " ") != strings.Join(want[i].Refs, " ") || msgs[i].Comment != want[i].Comment {
			t.Errorf("message %d: got %+v, want %+v", i, msgs[i], want[i])
		}
	}
	if _, err := Extract(project(t, `{{ T "%x bad" }}`), nil); err == nil || !strings.Contains(err.Error(), "x.html:1") {
		t.Errorf("a %%x placeholder: %v", err)
	}
}

var msgs = []Message{
	{ID: "Files", Refs: []string{"t:1"}},
	{ID: "Build %s of %s", Refs: []string{"t:2"}, Comment: "c"},
	{ID: "%d file", Plural: "%d files", Refs: []string{"t:3"}, Comment: "c"},
	{ID: "Untranslated", Refs: []string{"t:4"}},
}

const header = `msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"
`

func writePO(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadPO(t *testing.T) {
	good := header + `
msgid "Files"
msgstr "Dateien"

#, c-format
msgid "Build %s of %s"
msgstr "Build %2$s von %1$s"

msgid "%d file"
msgid_plural "%d files"
msgstr[0] "eine Datei"
msgstr[1] "%d Dateien"

#, fuzzy
msgid "Untranslated"
msgstr "Nicht geprüft"

msgid "Obsolete"
msgstr "Veraltet"
`
	l, err := LoadPO(writePO(t, "de.po", good), msgs)
	if err != nil {
		t.Fatal(err)
	}
	if l.Key() != "de" || l.RTL || l.Name != "Deutsch" {
		t.Errorf("language: %s %v %q", l.Key(), l.RTL, l.Name)
	}
	if got := l.forms["Build %s of %s"][0]; got != "Build %[2]s von %[1]s" {
		t.Errorf("reordered placeholders: %q", got)
	}
	if got := l.forms["%d file|%d files"]; len(got) != 2 || got[0] != "eine Datei" || got[1] != "%[1]d Dateien" {
		t.Errorf("plural: %q", got)
	}
	// A fuzzy translation and a missing one fall back to English.
	if _, ok := l.forms["Untranslated"]; ok || l.Translated() != 3 {
		t.Errorf("fuzzy kept, or count wrong: %d %v", l.Translated(), l.forms)
	}
	ar, err := LoadPO(writePO(t, "ar.po", strings.Replace(good, "nplurals=2; plural=(n != 1);", "nplurals=2; plural=(n != 1);", 1)), msgs)
	if err != nil || !ar.RTL {
		t.Errorf("ar: %v, rtl %v", err, ar != nil && ar.RTL)
	}

	for _, tc := range []struct {
		name, po, want string
	}{
		{"missing placeholder", header + "\nmsgid \"Files\"\nmsgstr \"Dateien\"\n\nmsgid \"Build %s of %s\"\nmsgstr \"Build %s\"\n",
			`:9: msgid "Build %s of %s": placeholders %s, and the English has %s %s`},
		{"extra placeholder", header + "\nmsgid \"Files\"\nmsgstr \"Dateien %s\"\n",
			`:6: msgid "Files": placeholders %s, and the English has none`},
		{"number for a string", header + "\nmsgid \"Build %s of %s\"\nmsgstr \"Build %d von %s\"\n",
			`:6: msgid "Build %s of %s": placeholders %d %s, and the English has %s %s`},
		{"a lone percent sign", header + "\nmsgid \"Files\"\nmsgstr \"100 % Dateien\"\n",
			`:6: msgid "Files": a % that starts no placeholder (write %% for a percent sign)`},
		{"argument twice", header + "\nmsgid \"Build %s of %s\"\nmsgstr \"Build %1$s von %1$s\"\n",
			`argument 1 is used twice`},
		{"a form missing", header + "\nmsgid \"%d file\"\nmsgid_plural \"%d files\"\nmsgstr[0] \"%d Datei\"\n",
			`:6: msgid "%d file": 1 plural forms; Plural-Forms says nplurals=2`},
		{"an empty form", header + "\nmsgid \"%d file\"\nmsgid_plural \"%d files\"\nmsgstr[0] \"%d Datei\"\nmsgstr[1] \"\"\n",
			`msgstr[1] is empty`},
		{"plural form placeholders", header + "\nmsgid \"%d file\"\nmsgid_plural \"%d files\"\nmsgstr[0] \"%d Datei\"\nmsgstr[1] \"%s Dateien\"\n",
			`msgstr[1]: placeholders %s, and the English has %d`},
		{"a form with a bad placeholder", header + "\nmsgid \"%d file\"\nmsgid_plural \"%d files\"\nmsgstr[0] \"eine Datei\"\nmsgstr[1] \"%x Dateien\"\n",
			`msgstr[1]: placeholder "%x": only %s and %d are used`},
		{"no Plural-Forms", "msgid \"\"\nmsgstr \"\"\n\"Content-Type: text/plain; charset=UTF-8\\n\"\n\nmsgid \"%d file\"\nmsgid_plural \"%d files\"\nmsgstr[0] \"%d Datei\"\nmsgstr[1] \"%d Dateien\"\n",
			`a plural translation, and no Plural-Forms header`},
		{"broken Plural-Forms", strings.Replace(header, "plural=(n != 1);", "plural=(n != ;", 1),
			`:1: Plural-Forms "nplurals=2; plural=(n != ;": plural:`},
		{"Plural-Forms past nplurals", strings.Replace(header, "plural=(n != 1);", "plural=(n > 1 ? 2 : 0);", 1),
			`plural gives form 2 for 2, and there are 2 forms`},
		{"plural for a singular", header + "\nmsgid \"Files\"\nmsgid_plural \"Fileses\"\nmsgstr[0] \"Datei\"\nmsgstr[1] \"Dateien\"\n",
			`has a plural; the English has none`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := writePO(t, "de.po", tc.po)
			_, err := LoadPO(f, msgs)
			if err == nil {
				t.Fatalf("accepted")
			}
			if !strings.HasPrefix(err.Error(), f+":") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to start with %s: and hold %q", err, f, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("not one line: %q", err)
			}
		})
	}
	if _, err := LoadPO(writePO(t, "not a tag.po", header), msgs); err == nil || !strings.Contains(err.Error(), "not a language tag") {
		t.Errorf("bad file name: %v", err)
	}
}

func TestPseudo(t *testing.T) {
	xa, err := Pseudo(PseudoAccents, msgs)
	if err != nil {
		t.Fatal(err)
	}
	got := xa.forms["Build %s of %s"][0]
	if !strings.HasPrefix(got, "[") || !strings.HasSuffix(got, "]") || !strings.Contains(got, "%[1]s") || !strings.Contains(got, "%[2]s") {
		t.Errorf("en-XA: %q", got)
	}
	for _, forms := range xa.forms {
		for _, f := range forms {
			text := regexp.MustCompile(`%\[[0-9]+\][sd]`).ReplaceAllString(f, "")
			for _, r := range text {
				if r < unicode.MaxASCII && unicode.IsLetter(r) {
					t.Errorf("en-XA %q keeps the ASCII letter %q", f, r)
					break
				}
			}
		}
	}
	if got, en := len([]rune(xa.forms["Untranslated"][0])), len("Untranslated"); got < en*14/10 {
		t.Errorf("en-XA is %d runes, want at least 40%% more than %d", got, en)
	}
	xb, err := Pseudo(PseudoBidi, msgs)
	if err != nil || !xb.RTL || xb.nplurals != 6 {
		t.Fatalf("ar-XB: %v %+v", err, xb)
	}
	data, err := xb.HugoJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	plural := m["%d file|%d files"].(map[string]any)
	for _, c := range []string{"zero", "one", "two", "few", "many", "other"} {
		if plural[c] == nil {
			t.Errorf("ar-XB has no %s form: %v", c, plural)
		}
	}
	if lower, err := Pseudo("ar-xb", msgs); err != nil || lower.Tag.String() != PseudoBidi || !lower.RTL {
		t.Errorf("ar-xb: %v %+v", err, lower)
	}
	if _, err := Pseudo("de", msgs); err == nil {
		t.Error("de made a pseudo-locale")
	}
}

// Hugo picks a plural's form by CLDR category: a catalog whose
// Plural-Forms splits a category is refused.
func TestHugoJSONPluralCategories(t *testing.T) {
	po := strings.Replace(header, "nplurals=2; plural=(n != 1);", "nplurals=3; plural=(n==1 ? 0 : n==2 ? 1 : 2);", 1) +
		"\nmsgid \"%d file\"\nmsgid_plural \"%d files\"\nmsgstr[0] \"%d Datei\"\nmsgstr[1] \"%d Dateien\"\nmsgstr[2] \"%d Dateien\"\n"
	l, err := LoadPO(writePO(t, "de.po", po), msgs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.HugoJSON(); err == nil || !strings.Contains(err.Error(), "CLDR category (other)") {
		t.Errorf("a Plural-Forms that splits CLDR's other: %v", err)
	}
	en := English(msgs)
	data, err := en.HugoJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"one": "%[1]d file"`)) || !bytes.Contains(data, []byte(`"other": "%[1]d files"`)) {
		t.Errorf("English: %s", data)
	}
}
