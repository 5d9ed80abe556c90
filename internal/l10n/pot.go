package l10n

import (
	"bufio"
	"io"
	"strings"
)

// Domain names the catalog: po/Domain.pot, and the text domain in it.
const Domain = "atomic-site"

// WritePOT writes msgs as a gettext template. It carries no creation date,
// so that extracting again from the same sources gives the same bytes.
func WritePOT(w io.Writer, msgs []Message) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(`# Messages of the Fedora Atomic Host download site.
# Made by "make pot" from templates/ and site/sitegen.toml: do not edit.
# To translate, copy it to po/LANG.po: see docs/translating.md.
msgid ""
msgstr ""
"Project-Id-Version: ` + Domain + `\n"
"MIME-Version: 1.0\n"
"Content-Type: text/plain; charset=UTF-8\n"
"Content-Transfer-Encoding: 8bit\n"
"Plural-Forms: nplurals=INTEGER; plural=EXPRESSION;\n"
`)
	for _, m := range msgs {
		bw.WriteString("\n")
		if m.Comment != "" {
			bw.WriteString("#. " + m.Comment + "\n")
		}
		bw.WriteString("#: " + strings.Join(m.Refs, " ") + "\n")
		if strings.Contains(m.Key(), "%") {
			bw.WriteString("#, c-format\n")
		}
		bw.WriteString("msgid " + quote(m.ID) + "\n")
		if m.Plural == "" {
			bw.WriteString("msgstr \"\"\n")
			continue
		}
		bw.WriteString("msgid_plural " + quote(m.Plural) + "\n")
		bw.WriteString("msgstr[0] \"\"\nmsgstr[1] \"\"\n")
	}
	return bw.Flush()
}

// quote writes s as a PO string.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}
