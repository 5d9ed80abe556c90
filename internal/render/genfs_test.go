package render

import (
	"errors"
	"io/fs"
	"os"
	"testing"
	"testing/fstest"

	"github.com/spf13/afero"
)

// genFS behaves as a file system: testing/fstest checks every file and
// directory through io/fs, after files are set, replaced and removed.
func TestGenFS(t *testing.T) {
	g := newGenFS()
	g.set("content/streams/stable/_index.md", []byte("{}\n"))
	g.set("content/streams/stable/builds/28.1.md", []byte("one\n"))
	g.set("content/streams/stable/builds/28.2.md", []byte("two\n"))
	g.set("data/sitegen.json", []byte("{}\n"))
	g.set("content/streams/stable/builds/28.1.md", []byte("one again\n"))
	g.set("content/gone.md", []byte("x"))
	g.del("content/gone.md")
	if err := g.MkdirAll("/content/empty", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(afero.NewIOFS(g), "content/streams/stable/_index.md", "content/streams/stable/builds/28.1.md",
		"content/streams/stable/builds/28.2.md", "data/sitegen.json", "content/empty"); err != nil {
		t.Fatal(err)
	}
	if data, err := afero.ReadFile(g, "/content/streams/stable/builds/28.1.md"); err != nil || string(data) != "one again\n" {
		t.Errorf("read back %q, %v", data, err)
	}
	if _, err := g.Stat("/content/gone.md"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("removed file: %v", err)
	}
	// Read-only: Hugo writes the site elsewhere.
	if _, err := g.OpenFile("/data/x.json", os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		t.Error("a file was created")
	}
}
