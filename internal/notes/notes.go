// Package notes renders a build's release notes, written in Markdown, to
// HTML with goldmark. Raw HTML in the notes is shown as text, escaped, never
// passed through: the notes come from the pipeline, not from a person who
// reviews the page.
package notes

import (
	"bytes"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

var md = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithRendererOptions(renderer.WithNodeRenderers(
		// Before goldmark's HTML renderer (priority 1000), which would
		// drop raw HTML with a comment rather than show it.
		util.Prioritized(escapeRawHTML{}, 100),
	)),
)

// HTML renders Markdown to HTML.
func HTML(markdown string) (string, error) {
	var buf bytes.Buffer
	if err := md.Convert([]byte(markdown), &buf); err != nil {
		return "", err
	}
	return buf.String(), nil
}

type escapeRawHTML struct{}

func (escapeRawHTML) RegisterFuncs(r renderer.NodeRendererFuncRegisterer) {
	r.Register(ast.KindHTMLBlock, renderHTMLBlock)
	r.Register(ast.KindRawHTML, renderRawHTML)
}

func renderHTMLBlock(w util.BufWriter, source []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	b := n.(*ast.HTMLBlock)
	if entering {
		w.WriteString("<p>")
		lines := b.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			w.Write(util.EscapeHTML(seg.Value(source)))
		}
		if b.HasClosure() {
			w.Write(util.EscapeHTML(b.ClosureLine.Value(source)))
		}
		w.WriteString("</p>\n")
	}
	return ast.WalkSkipChildren, nil
}

func renderRawHTML(w util.BufWriter, source []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		segs := n.(*ast.RawHTML).Segments
		for i := 0; i < segs.Len(); i++ {
			seg := segs.At(i)
			w.Write(util.EscapeHTML(seg.Value(source)))
		}
	}
	return ast.WalkSkipChildren, nil
}
