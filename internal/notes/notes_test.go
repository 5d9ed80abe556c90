package notes_test

import (
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/notes"
)

func TestHTML(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     []string
		not      []string
	}{
		{"markdown", "Kernel **4.16**.\n\n- podman\n- [notes](https://example.org/n)",
			[]string{"<strong>4.16</strong>", "<li>podman</li>", `<a href="https://example.org/n">notes</a>`}, nil},
		{"html block escaped", "<script>alert(1)</script>",
			[]string{"&lt;script&gt;alert(1)&lt;/script&gt;"}, []string{"<script>", "raw HTML omitted"}},
		{"inline html escaped", "a <img src=x onerror=alert(1)> b",
			[]string{"a &lt;img src=x onerror=alert(1)&gt; b"}, []string{"<img"}},
		{"multi-line block escaped", "<div>\n<b>bold</b>\n</div>",
			[]string{"&lt;div&gt;", "&lt;b&gt;bold&lt;/b&gt;", "&lt;/div&gt;"}, []string{"<div>", "<b>"}},
		{"javascript link dropped", "[x](javascript:alert(1))",
			nil, []string{"javascript:"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := notes.HTML(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("HTML(%q) = %q, want it to contain %q", tt.in, got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("HTML(%q) = %q, must not contain %q", tt.in, got, n)
				}
			}
		})
	}
}
