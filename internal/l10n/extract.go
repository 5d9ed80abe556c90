package l10n

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/projectatomic/atomic-site/internal/config"
)

// TemplatesDir is where the project's templates are, below its root.
const TemplatesDir = "templates"

// call matches a message in a template: T "…", or the message of the t
// partial, partial "t.html" (slice "…" …).
var call = regexp.MustCompile(`(?:\bT|partial "t\.html" \(slice)\s+("(?:[^"\\\n]|\\.)*")`)

// note matches a template comment to translators.
var note = regexp.MustCompile(`\{\{-?\s*/\*\s*TRANSLATORS:\s*((?s:.*?))\s*\*/\s*-?\}\}`)

// Extract lists the messages of the project's templates and of texts,
// the site's own words in its config (see ConfigTexts), in the order they
// are first used. A message with placeholders and no comment to
// translators is an error naming where it is used.
func Extract(projectDir string, texts []Message) ([]Message, error) {
	byKey := map[string]int{}
	var msgs []Message
	add := func(m Message) error {
		if _, err := placeholders(m.ID); err != nil {
			return fmt.Errorf("%s: %q: %w", m.Refs[0], m.ID, err)
		}
		if _, err := placeholders(m.Plural); err != nil {
			return fmt.Errorf("%s: %q: %w", m.Refs[0], m.Plural, err)
		}
		if i, ok := byKey[m.Key()]; ok {
			msgs[i].Refs = append(msgs[i].Refs, m.Refs...)
			if msgs[i].Comment == "" {
				msgs[i].Comment = m.Comment
			}
			return nil
		}
		byKey[m.Key()] = len(msgs)
		msgs = append(msgs, m)
		return nil
	}
	root := filepath.Join(projectDir, TemplatesDir)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".html" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(projectDir, p)
		found, err := templateMessages(filepath.ToSlash(rel), string(data))
		if err != nil {
			return err
		}
		for _, m := range found {
			if err := add(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("extract messages: %w", err)
	}
	for _, m := range texts {
		if err := add(m); err != nil {
			return nil, err
		}
	}
	for _, m := range msgs {
		if m.Comment == "" && verb.MatchString(strings.ReplaceAll(m.Key(), "%%", "")) {
			return nil, fmt.Errorf("%s: %q has placeholders and no comment to translators ({{/* TRANSLATORS: … */}} before it)", m.Refs[0], m.Key())
		}
	}
	sortMessages(msgs)
	return msgs, nil
}

// templateMessages lists the messages of one template, named rel.
func templateMessages(rel, src string) ([]Message, error) {
	var out []Message
	notes := note.FindAllStringSubmatchIndex(src, -1)
	for _, loc := range call.FindAllStringSubmatchIndex(src, -1) {
		lit := src[loc[2]:loc[3]]
		line := 1 + strings.Count(src[:loc[0]], "\n")
		ref := rel + ":" + strconv.Itoa(line)
		id, err := strconv.Unquote(lit)
		if err != nil {
			return nil, fmt.Errorf("%s: message %s: %w", ref, lit, err)
		}
		m := Message{Refs: []string{ref}}
		m.ID, m.Plural, _ = strings.Cut(id, "|")
		if strings.Contains(m.Plural, "|") {
			return nil, fmt.Errorf("%s: message %s: more than one plural", ref, lit)
		}
		// The comment to translators is the last one before the message
		// that ends on its line or the line before, and no message came
		// between them.
		for len(notes) > 0 && notes[0][1] <= loc[0] {
			n := notes[0]
			notes = notes[1:]
			if strings.Count(src[n[1]:loc[0]], "\n") <= 1 {
				m.Comment = strings.Join(strings.Fields(src[n[2]:n[3]]), " ")
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// ConfigTexts lists the site's own words in its config, the file at
// path: its title, and each stream's title and description and each
// documentation link's title. They are messages like the templates'.
func ConfigTexts(cfgPath string) ([]Message, error) {
	data, err := os.ReadFile(cfgPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cfg, err := config.Parse(cfgPath, data)
	if err != nil {
		return nil, err
	}
	return Texts(cfg, path.Join("site", filepath.Base(cfgPath)), string(data)), nil
}

// Texts lists cfg's words, each referred to the line of src (the
// config's text, named name) that holds it.
func Texts(cfg *config.Config, name, src string) []Message {
	var out []Message
	add := func(s, what string) {
		if s == "" {
			return
		}
		line := 0
		if i := strings.Index(src, strconv.Quote(s)); i >= 0 {
			line = 1 + strings.Count(src[:i], "\n")
		}
		out = append(out, Message{ID: s, Refs: []string{name + ":" + strconv.Itoa(line)}, Comment: what})
	}
	add(cfg.Title, "The site's title.")
	for _, s := range cfg.Streams {
		add(s.Title, "The title of the stream "+s.Name+".")
		add(s.Description, "What the stream "+s.Name+" is.")
	}
	for _, d := range cfg.Docs {
		add(d.Title, "A link to documentation at "+d.URL+".")
	}
	return out
}
