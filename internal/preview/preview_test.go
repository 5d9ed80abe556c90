package preview_test

import (
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/projectatomic/atomic-site/internal/preview"
)

func TestHandler(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "streams", "stable"), 0o755)
	os.MkdirAll(filepath.Join(dir, "empty"), 0o755)
	os.WriteFile(filepath.Join(dir, "404.html"), []byte("not here"), 0o644)
	os.WriteFile(filepath.Join(dir, "streams", "stable", "index.html"), []byte("stable"), 0o644)
	os.MkdirAll(filepath.Join(dir, "latest", "stable", "x86_64", "qcow2"), 0o755)
	os.WriteFile(filepath.Join(dir, "latest", "stable", "x86_64", "qcow2", "index.html"), []byte("page"), 0o644)
	os.WriteFile(filepath.Join(dir, "_redirects"), []byte("# comment\n/latest/stable/x86_64/qcow2 https://dl.example.org/a.qcow2 302!\n"), 0o644)
	h := preview.Handler(dir)
	for _, tc := range []struct {
		path string
		code int
		body string
	}{
		{"/latest/stable/x86_64/qcow2", 302, ""},
		{"/latest/stable/x86_64/qcow2/", 302, ""},
		{"/streams/stable/", 200, "stable"},
		{"/streams/nope/", 404, "not here"},
		{"/empty/", 404, "not here"}, // a directory without a page, not a listing
		{"/../../etc/passwd", 404, "not here"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "http://x"+tc.path, nil))
		body, _ := io.ReadAll(rec.Body)
		if tc.code == 302 {
			if loc := rec.Header().Get("Location"); rec.Code != 302 || loc != "https://dl.example.org/a.qcow2" {
				t.Errorf("GET %s = %d to %q, want 302 to the image", tc.path, rec.Code, loc)
			}
			continue
		}
		if rec.Code != tc.code || string(body) != tc.body {
			t.Errorf("GET %s = %d %q, want %d %q", tc.path, rec.Code, body, tc.code, tc.body)
		}
	}
}
