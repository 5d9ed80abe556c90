package mirror_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/mirror"
)

func TestLoadTargets(t *testing.T) {
	for _, tc := range []struct {
		name, toml, err string
	}{
		{"two targets", "[[target]]\nname = \"eu\"\nbucket = \"b\"\nprefix = \"p\"\n[[target]]\nname = \"local\"\ndir = \"/srv/m\"\n", ""},
		{"none", "# nothing\n", "no [[target]] listed"},
		{"no name", "[[target]]\ndir = \"/srv/m\"\n", "target 1: name is required"},
		{"twice", "[[target]]\nname = \"a\"\ndir = \"x\"\n[[target]]\nname = \"a\"\ndir = \"y\"\n", `target "a" is listed twice`},
		{"neither", "[[target]]\nname = \"a\"\n", `target "a": give either bucket`},
		{"both", "[[target]]\nname = \"a\"\ndir = \"x\"\nbucket = \"b\"\n", `target "a": give either bucket`},
		{"typo", "[[target]]\nname = \"a\"\nbukcet = \"b\"\n", "bukcet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "targets.toml")
			os.WriteFile(p, []byte(tc.toml), 0o644)
			ts, err := mirror.LoadTargets(p)
			if tc.err == "" {
				if err != nil || len(ts) != 2 || ts[0].Dest() != "s3://b/p" || ts[1].Dest() != "/srv/m" {
					t.Fatalf("LoadTargets = %+v, %v", ts, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), p) {
				t.Errorf("LoadTargets: %v, want an error naming %s and saying %q", err, p, tc.err)
			}
		})
	}
}
