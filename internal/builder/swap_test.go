package builder

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSwap(t *testing.T) {
	for name, exchange := range map[string]func(a, b string) error{
		"system":      exchange,
		"two renames": func(a, b string) error { return errNoExchange },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cur, next := filepath.Join(dir, "public"), filepath.Join(dir, ".public.new")
			write := func(d, content string) {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(d, "index.html"), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			read := func(d string) string {
				b, err := os.ReadFile(filepath.Join(d, "index.html"))
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}

			// No site yet: a plain rename.
			write(next, "one")
			if err := swapWith(next, cur, exchange); err != nil {
				t.Fatal(err)
			}
			if got := read(cur); got != "one" {
				t.Errorf("first swap: site says %q, want one", got)
			}

			// A site in place: the new one goes in, the old one is left
			// at next for the caller to remove, and nothing else remains.
			write(next, "two")
			if err := swapWith(next, cur, exchange); err != nil {
				t.Fatal(err)
			}
			if got := read(cur); got != "two" {
				t.Errorf("second swap: site says %q, want two", got)
			}
			if got := read(next); got != "one" {
				t.Errorf("second swap: next holds %q, want the old site", got)
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 2 {
				t.Errorf("second swap left %d entries in %s, want 2", len(ents), dir)
			}
		})
	}
}
