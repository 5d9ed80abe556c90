// Package l10n holds the site's message catalogs: it extracts the English
// messages from the templates and the site's config into a gettext
// template (po/atomic-site.pot), loads and checks the translations
// translators keep beside it (po/LANG.po), makes the pseudo-locales that
// prove the machinery, and gives Hugo each language's messages in the form
// its T function reads.
//
// Placeholders are gettext's c-format ones, restricted to %s and %d, with
// %1$s to reorder them. A message is plural when its ID holds its English
// plural after a "|": T "%d file|%d files" N.
package l10n

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Message is one English message, as extracted.
type Message struct {
	ID     string // the English text, or its singular
	Plural string // the English plural; empty for a message without one
	// Refs are where it is used: file:line, slash paths from the project.
	Refs []string
	// Comment is the note to translators, required when the message has
	// placeholders: what each one stands for.
	Comment string
}

// Key is the message's ID in the templates' T calls.
func (m Message) Key() string {
	if m.Plural == "" {
		return m.ID
	}
	return m.ID + "|" + m.Plural
}

// verb matches a placeholder: %s, %d, %2$s; and %% (no placeholder).
var verb = regexp.MustCompile(`%(?:([1-9][0-9]*)\$)?([a-zA-Z%])`)

// placeholders lists what s's placeholders stand for, by argument: the
// verb of each argument, in order ("sd": a string, then a number). Each
// argument appears once.
func placeholders(s string) (string, error) {
	args := map[int]byte{}
	next, positional, sequential := 1, false, false
	for _, m := range verb.FindAllStringSubmatch(s, -1) {
		if m[2] == "%" {
			continue
		}
		if m[2] != "s" && m[2] != "d" {
			return "", fmt.Errorf("placeholder %q: only %%s and %%d are used", m[0])
		}
		n := next
		if m[1] != "" {
			n, _ = strconv.Atoi(m[1])
			positional = true
		} else {
			sequential = true
			next++
		}
		if _, dup := args[n]; dup {
			return "", fmt.Errorf("placeholder %q: argument %d is used twice", m[0], n)
		}
		args[n] = m[2][0]
	}
	if strings.Contains(verb.ReplaceAllString(s, ""), "%") {
		return "", fmt.Errorf("a %% that starts no placeholder (write %%%% for a percent sign)")
	}
	if positional && sequential {
		return "", fmt.Errorf("placeholders mix %%s and %%1$s")
	}
	out := make([]byte, len(args))
	for n, v := range args {
		if n > len(args) {
			return "", fmt.Errorf("placeholder %%%d$%c: there are only %d arguments", n, v, len(args))
		}
		out[n-1] = v
	}
	return string(out), nil
}

// goFormat turns s's placeholders into explicit argument indexes, %[1]s,
// the form the templates substitute.
func goFormat(s string) string {
	next := 1
	return verb.ReplaceAllStringFunc(s, func(p string) string {
		m := verb.FindStringSubmatch(p)
		if m[2] == "%" {
			return p
		}
		n := next
		if m[1] != "" {
			n, _ = strconv.Atoi(m[1])
		} else {
			next++
		}
		return "%[" + strconv.Itoa(n) + "]" + m[2]
	})
}

// sortMessages orders messages by where they are first used.
func sortMessages(msgs []Message) {
	slices.SortStableFunc(msgs, func(a, b Message) int {
		af, al := splitRef(a.Refs[0])
		bf, bl := splitRef(b.Refs[0])
		if c := strings.Compare(af, bf); c != 0 {
			return c
		}
		return al - bl
	})
}

func splitRef(r string) (string, int) {
	i := strings.LastIndexByte(r, ':')
	if i < 0 {
		return r, 0
	}
	n, _ := strconv.Atoi(r[i+1:])
	return r[:i], n
}
