package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
)

// binaries builds sitegen and mirror into a directory of their own.
func binaries(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	for _, c := range []string{"sitegen", "mirror"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(bin, c), "../cmd/"+c).CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", c, err, out)
		}
	}
	return bin
}

var units = []string{"atomic-site-build.service", "atomic-site-build.timer", "atomic-mirror-sync.service", "atomic-mirror-sync.timer"}

// The units pass systemd-analyze verify (with the commands where the units
// expect them), without a warning, and every command line they run parses
// with the commands' own flags.
func TestSystemdUnits(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze not found: install the Debian package systemd (make test does, as root)")
	}
	bin := binaries(t)
	dir := t.TempDir()
	var paths []string
	for _, u := range units {
		data, err := os.ReadFile(filepath.Join("systemd", u))
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte("/usr/local/bin/"), []byte(bin+"/"))
		p := filepath.Join(dir, u)
		os.WriteFile(p, data, 0o644)
		paths = append(paths, p)
	}
	cmd := exec.Command(analyze, append([]string{"verify"}, paths...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, stderr.String())
	}

	for _, u := range units {
		if !strings.HasSuffix(u, ".service") {
			continue
		}
		data, _ := os.ReadFile(filepath.Join(dir, u))
		env := map[string]string{}
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "Environment="); ok {
				k, val, _ := strings.Cut(v, "=")
				env[k] = val
			}
		}
		exec_ := regexp.MustCompile(`^Exec\w*=(.*)$`)
		for _, line := range strings.Split(string(data), "\n") {
			m := exec_.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			args := strings.Fields(os.Expand(m[1], func(k string) string { return env[k] }))
			out, err := exec.Command(args[0], append(args[1:], "--help")...).CombinedOutput()
			if err != nil {
				t.Errorf("%s: %s does not parse: %v\n%s", u, m[1], err, out)
			}
		}
	}
}

// The scheduled workflow passes actionlint.
func TestWorkflow(t *testing.T) {
	lint := filepath.Join(s3server.ToolsDir(), "actionlint")
	if _, err := os.Stat(lint); err != nil {
		if lint, err = exec.LookPath("actionlint"); err != nil {
			t.Fatal("actionlint not found: run scripts/deps.sh (make test does)")
		}
	}
	out, err := exec.Command(lint, "-no-color", "../.github/workflows/site.yml").CombinedOutput()
	if err != nil {
		t.Errorf("actionlint: %v\n%s", err, out)
	}
}
