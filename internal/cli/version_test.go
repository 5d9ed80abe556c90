package cli

import (
	"runtime/debug"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "(unknown build)"},
		{"go install of a tag", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}},
			"v1.2.0, built with go1.26.8"},
		{"clone with git", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "aa6797c0"}, {Key: "vcs.time", Value: "2026-11-29T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}},
			"(devel), revision aa6797c0 (modified) of 2026-11-29T10:00:00Z, built with go1.26.8"},
		{"checkout at a tag, with VCS information", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.3.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "bb6797c0"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}}},
			"v1.3.0, revision bb6797c0 of 2026-12-01T10:00:00Z, built with go1.26.8"},
		{"no version recorded", &debug.BuildInfo{GoVersion: "go1.26.8"},
			"(devel), no VCS information (build with make install, or go build -buildvcs=true), built with go1.26.8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Version(tc.info); got != tc.want {
				t.Errorf("Version() = %q, want %q", got, tc.want)
			}
		})
	}
}
