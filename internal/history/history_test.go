package history_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/history"
)

const repo = "../.."

func TestConfigPath(t *testing.T) {
	for _, tc := range []struct {
		project, flag string
		explicit      bool
		want          string
		optional      bool
	}{
		{".", "", false, "site/sitegen.toml", true},
		{"/srv/site", "", false, "/srv/site/site/sitegen.toml", true},
		{"/srv/site", "prod.toml", true, "prod.toml", false},
	} {
		got, optional := history.ConfigPath(tc.project, tc.flag, tc.explicit)
		if got != tc.want || optional != tc.optional {
			t.Errorf("ConfigPath(%q, %q, %v) = %q, %v; want %q, %v", tc.project, tc.flag, tc.explicit, got, optional, tc.want, tc.optional)
		}
	}
}

func example(manifests string) history.Options {
	return history.Options{
		Manifests: manifests,
		Keys:      filepath.Join(repo, "testdata", "keys"),
		Config:    filepath.Join(repo, "site", "sitegen.toml"),
		Now:       time.Date(2018, 6, 10, 0, 0, 0, 0, time.UTC),
	}
}

func TestLoad(t *testing.T) {
	h, err := history.Load(context.Background(), example(filepath.Join(repo, "testdata", "manifests")))
	if err != nil {
		t.Fatal(err)
	}
	if st := h.State.Stream("stable"); st == nil || st.Current == nil || st.Current.Release != "28.20180508.0" || !st.Stale {
		t.Errorf("stable stream = %+v, want current 28.20180508.0, stale", st)
	}
	if h.Config.Stream("stable").Title == "" || len(h.Catalog.Builds) != 7 {
		t.Errorf("config title %q, %d builds; want a title and 7 builds", h.Config.Stream("stable").Title, len(h.Catalog.Builds))
	}
}

// A Loader kept alive sees a file that turns bad, and fails naming it.
func TestLoaderSeesChanges(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(repo, "testdata", "manifests"))); err != nil {
		t.Fatal(err)
	}
	l := history.NewLoader(example(dir))
	if _, err := l.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "stable", "28.20180508.0.json")
	if err := os.WriteFile(bad, []byte(`{"tampered": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := l.Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "28.20180508.0.json") {
		t.Errorf("Load after tampering: %v, want an error naming the file", err)
	}
}
