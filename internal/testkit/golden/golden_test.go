package golden_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/testkit/golden"
)

// recorder keeps what Check reports instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func files(t *testing.T, dir string) []string {
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	return names
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	got := map[string][]byte{"index.html": []byte("a\nb\n"), "streams/stable.json": []byte("{}")}
	golden.Check(t, dir, got, true)
	if want := []string{"index.html.golden", "streams/stable.json.golden"}; !slices.Equal(files(t, dir), want) {
		t.Fatalf("after -update: %v, want %v", files(t, dir), want)
	}

	for _, tc := range []struct {
		name string
		got  map[string][]byte
		want string // in the one error reported
	}{
		{"same", got, ""},
		{"differs", map[string][]byte{"index.html": []byte("a\nc\n"), "streams/stable.json": []byte("{}")}, "line 2"},
		{"new file", map[string][]byte{"index.html": []byte("a\nb\n"), "streams/stable.json": []byte("{}"), "feed.xml": nil}, "no golden file"},
		{"stale golden file", map[string][]byte{"index.html": []byte("a\nb\n")}, "no longer produced"},
	} {
		r := &recorder{TB: t}
		golden.Check(r, dir, tc.got, false)
		switch {
		case tc.want == "" && len(r.errs) > 0:
			t.Errorf("%s: %q", tc.name, r.errs)
		case tc.want != "" && (len(r.errs) != 1 || !strings.Contains(r.errs[0], tc.want)):
			t.Errorf("%s: reported %q, want one error saying %q", tc.name, r.errs, tc.want)
		}
	}

	// -update removes what is no longer produced.
	golden.Check(t, dir, map[string][]byte{"index.html": []byte("a\nb\n")}, true)
	if want := []string{"index.html.golden"}; !slices.Equal(files(t, dir), want) {
		t.Errorf("after -update without a file: %v, want %v", files(t, dir), want)
	}
}
