package cli

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// SetVersion gives root a --version flag that prints the build's module
// version and VCS revision, and anything more the command says of itself,
// so that a bug report can say which build it was.
func SetVersion(root *cobra.Command, more ...string) {
	info, _ := debug.ReadBuildInfo()
	root.Version = strings.Join(append([]string{Version(info)}, more...), "; ")
	root.SetVersionTemplate("{{.Name}} {{.Version}}\n")
}

// Version describes a build: its module version (v1.2.3 when installed
// with go install MODULE@VERSION or built from a checkout at that tag, a
// pseudo-version naming the commit past it otherwise), the VCS revision
// and time where the build recorded them, and the Go version. A build
// from a checkout records them with -buildvcs=true (make install passes
// it; some environments turn it off in GOFLAGS): one that did not says
// so.
func Version(info *debug.BuildInfo) string {
	if info == nil {
		return "(unknown build)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	parts := []string{v}
	set := map[string]string{}
	for _, s := range info.Settings {
		set[s.Key] = s.Value
	}
	if rev := set["vcs.revision"]; rev != "" {
		r := "revision " + rev
		if set["vcs.modified"] == "true" {
			r += " (modified)"
		}
		if t := set["vcs.time"]; t != "" {
			r += " of " + t
		}
		parts = append(parts, r)
	} else if v == "(devel)" {
		parts = append(parts, "no VCS information (build with make install, or go build -buildvcs=true)")
	}
	parts = append(parts, fmt.Sprintf("built with %s", info.GoVersion))
	return strings.Join(parts, ", ")
}
