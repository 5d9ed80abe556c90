// Package announce writes a release announcement as an email (RFC 5322,
// multipart/alternative: plain text and HTML), made from the same view of
// the build as its page: title, files, sizes, URLs and notes (Markdown in
// the text part, the page's HTML in the HTML part).
package announce

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"mime"
	"mime/quotedprintable"
	"net/url"
	"strconv"
	"text/template"
	"time"

	"github.com/projectatomic/atomic-site/internal/bytesize"
	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/view"
)

// Options are the envelope of the message.
type Options struct {
	From, To string
	Date     time.Time
}

type file struct {
	Arch, Platform, Format, Name, URL, Size, SHA256 string
}

type data struct {
	Title, Stream, Release, Date, URL, Checksum string
	Notes                                       string
	NotesHTML                                   htmltemplate.HTML
	Files                                       []file
	Rebase                                      string
	Revoked                                     bool
	Reason, RevokedAt, Instead, InsteadURL      string
	Withdrawn                                   []withdrawn
}

type withdrawn struct{ Release, Reason, At string }

// Message writes the announcement of build b of stream st, both as the
// site shows them.
func Message(st *view.Stream, b *view.Build, cfg *config.Config, opts Options) ([]byte, error) {
	d := data{
		Title: b.Title, Stream: st.Name, Release: b.Release, Date: b.Date,
		URL:       cfg.SiteURL(b.URL),
		Checksum:  cfg.SiteURL(view.ChecksumURL(st.Name, b.Release)),
		Notes:     b.Notes,
		NotesHTML: htmltemplate.HTML(b.NotesHTML), // goldmark's output, raw HTML escaped
	}
	for _, a := range b.Arches {
		for _, f := range a.Artifacts {
			size := "size unknown"
			if n, err := strconv.ParseInt(f.Bytes, 10, 64); err == nil {
				size = fmt.Sprintf("%s (%s bytes)", bytesize.Format(n), f.Bytes)
			}
			format := f.Format
			if f.Role != "disk" {
				format += " " + f.Role
			}
			d.Files = append(d.Files, file{Arch: a.Name, Platform: f.Platform, Format: format, Name: f.Name, URL: f.URL, Size: size, SHA256: f.SHA256})
		}
	}
	if o := b.OSTree; o != nil {
		d.Rebase = o.Rebase
	}
	revoked := b.Revocation != nil
	if revoked {
		d.Revoked, d.Reason, d.RevokedAt = true, b.Revocation.Reason, b.Revocation.At
		if r := b.Revocation.ReplacedBy; r != nil {
			d.Instead, d.InsteadURL = r.Release, cfg.SiteURL(r.URL)
		}
	}
	for _, w := range st.Withdrawn {
		if w.Release != b.Release {
			d.Withdrawn = append(d.Withdrawn, withdrawn{w.Release, w.Revocation.Reason, w.Revocation.At})
		}
	}

	var text, html bytes.Buffer
	if err := textTmpl.Execute(&text, d); err != nil {
		return nil, err
	}
	if err := htmlTmpl.Execute(&html, d); err != nil {
		return nil, err
	}
	subject := fmt.Sprintf("[%s] %s released", b.Title, b.Release)
	if revoked {
		subject = fmt.Sprintf("[%s] %s withdrawn", b.Title, b.Release)
	}
	// A boundary from the content: the same release gives the same bytes.
	sum := sha256.Sum256(append(text.Bytes(), html.Bytes()...))
	boundary := "atomic-" + hex.EncodeToString(sum[:12])
	host := "atomic.fedoraproject.org"
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Host != "" {
		host = u.Host
	}

	var msg bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&msg, "%s: %s\r\n", k, v) }
	header("From", opts.From)
	header("To", opts.To)
	header("Subject", mime.QEncoding.Encode("utf-8", subject))
	header("Date", opts.Date.UTC().Format(time.RFC1123Z))
	header("Message-ID", fmt.Sprintf("<%s.%s.%s@%s>", b.Release, st.Name, hex.EncodeToString(sum[:6]), host))
	header("MIME-Version", "1.0")
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": boundary}))
	msg.WriteString("\r\n")
	for _, part := range []struct {
		typ  string
		body []byte
	}{{"text/plain; charset=utf-8", text.Bytes()}, {"text/html; charset=utf-8", html.Bytes()}} {
		fmt.Fprintf(&msg, "--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary, part.typ)
		qp := quotedprintable.NewWriter(&msg)
		qp.Write(bytes.ReplaceAll(part.body, []byte("\n"), []byte("\r\n")))
		qp.Close()
		msg.WriteString("\r\n")
	}
	fmt.Fprintf(&msg, "--%s--\r\n", boundary)
	return msg.Bytes(), nil
}

var textTmpl = template.Must(template.New("text").Parse(`{{ if .Revoked -}}
{{ .Title }} {{ .Release }} has been WITHDRAWN ({{ .RevokedAt }}).
Why: {{ .Reason }}
{{ if .Instead }}Download {{ .Instead }} instead: {{ .InsteadURL }}{{ else }}No other build of this stream can be offered yet.{{ end }}

{{ end -}}
{{ .Title }} {{ .Release }} was released on {{ .Date }}.
{{ .URL }}
{{ with .Notes }}
{{ . }}
{{ end }}
Downloads
{{ range .Files }}
  {{ .Arch }} {{ .Platform }} {{ .Format }}: {{ .Size }}
    {{ .URL }}
    sha256 {{ .SHA256 }}
{{ end }}
How to verify a download
  curl -O {{ .Checksum }}
  sha256sum -c --ignore-missing CHECKSUM
{{ with .Rebase }}
Already running Atomic Host? Move to this build with:
  {{ . }}
{{ end }}{{ range .Withdrawn }}
Note: build {{ .Release }} of this stream was withdrawn on {{ .At }}: {{ .Reason }}
{{ end }}`))

var htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} {{ .Release }}</title></head>
<body>
{{ if .Revoked -}}
<p><strong>{{ .Title }} {{ .Release }} has been withdrawn</strong> ({{ .RevokedAt }}): <a href="{{ .Reason }}">why</a>.
{{ if .Instead }}Download <a href="{{ .InsteadURL }}">{{ .Instead }}</a> instead.{{ else }}No other build of this stream can be offered yet.{{ end }}</p>
{{ end -}}
<h1>{{ .Title }} {{ .Release }}</h1>
<p>Released on {{ .Date }}. <a href="{{ .URL }}">{{ .URL }}</a></p>
{{ with .NotesHTML }}<div>{{ . }}</div>{{ end }}
<h2>Downloads</h2>
<table>
<thead><tr><th scope="col">Architecture</th><th scope="col">Format</th><th scope="col">Size</th><th scope="col">SHA-256</th></tr></thead>
<tbody>
{{ range .Files }}<tr><td>{{ .Arch }}</td><td><a href="{{ .URL }}">{{ .Platform }} {{ .Format }}</a></td><td>{{ .Size }}</td><td><code>{{ .SHA256 }}</code></td></tr>
{{ end }}</tbody>
</table>
<h2>How to verify a download</h2>
<pre>curl -O {{ .Checksum }}
sha256sum -c --ignore-missing CHECKSUM</pre>
{{ with .Rebase }}<p>Already running Atomic Host? Move to this build with <code>{{ . }}</code>.</p>
{{ end }}{{ range .Withdrawn }}<p>Note: build {{ .Release }} of this stream was withdrawn on {{ .At }}: <a href="{{ .Reason }}">why</a>.</p>
{{ end }}</body></html>
`))
