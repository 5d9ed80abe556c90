package pages_test

import (
	"slices"
	"testing"

	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/pages"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/testkit/fixture"
	"github.com/projectatomic/atomic-site/internal/view"
)

// A cache kept between Generates gives the files a fresh Generate gives,
// after a build stops being current, after a stream changes and after
// the config does.
func TestGenerateCache(t *testing.T) {
	state, cfg := fixture.ExampleState(t)
	var cache pages.Cache
	same := func(what string, state *release.State, cfg *config.Config) {
		t.Helper()
		got, err := pages.Generate(state, cfg, &cache)
		if err != nil {
			t.Fatal(err)
		}
		want, err := pages.Generate(state, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, want, func(a, b view.File) bool { return a.Path == b.Path && string(a.Data) == string(b.Data) }) {
			t.Errorf("%s: the cached pages differ from fresh ones", what)
		}
	}
	same("first", state, cfg)
	same("again", state, cfg)
	st := state.Stream("testing")
	st.Current = st.Builds[1] // as if the newest were withdrawn
	same("another build current", state, cfg)
	st.Builds = st.Builds[1:]
	same("a stream changed", state, cfg)
	moved := *cfg
	moved.DownloadsURL = "https://mirror.example.org/atomic/"
	same("the config changed", state, &moved)
}
