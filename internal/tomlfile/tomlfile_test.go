package tomlfile_test

import (
	"testing"

	"github.com/projectatomic/atomic-site/internal/tomlfile"
)

func TestDecode(t *testing.T) {
	type conf struct {
		Title string `toml:"title"`
		Items []struct {
			Name string `toml:"name"`
		} `toml:"item"`
	}
	for _, tc := range []struct{ name, data, want string }{
		{"good", "title = \"x\"\n[[item]]\nname = \"a\"\n", ""},
		{"unknown key", "title = \"x\"\ntilte = \"y\"\n", `f.toml:2:1: unknown setting "tilte"`},
		{"nested unknown", "[[item]]\nnmae = \"a\"\n", `f.toml:2:1: unknown setting "item.nmae"`},
		{"syntax", "title = \n", "f.toml:1:"},
		{"wrong type", "title = 3\n", "f.toml:1:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c conf
			err := tomlfile.Decode("f.toml", []byte(tc.data), &c)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Decode: %v", err)
			case tc.want != "" && (err == nil || len(err.Error()) < len(tc.want) || err.Error()[:len(tc.want)] != tc.want):
				t.Errorf("Decode: %v, want an error starting %q", err, tc.want)
			}
		})
	}
}
