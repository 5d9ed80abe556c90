package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
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

// verifiedUnits writes the units under src (services and timers), with
// rewrite applied to their text, into a directory of their own, checks them
// with systemd-analyze verify, which must pass without a warning, and
// returns the directory and how many units it holds.
func verifiedUnits(t *testing.T, src string, rewrite func(string) string) (string, int) {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze not found: install the Debian package systemd (make test does, as root)")
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".service") && !strings.HasSuffix(e.Name(), ".timer") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, e.Name())
		if err := os.WriteFile(p, []byte(rewrite(string(data))), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(analyze, append([]string{"verify"}, paths...)...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, stderr.String())
	}
	return dir, len(paths)
}

// The units pass systemd-analyze verify (with the commands where the units
// expect them), without a warning; every setting they use from atomic.env
// is set there; and every command line of sitegen and mirror they run
// parses with the commands' own flags.
func TestSystemdUnits(t *testing.T) {
	if _, err := exec.LookPath("rsync"); err != nil {
		t.Fatal("rsync not found: install the Debian package rsync (make test does, as root)")
	}
	bin := binaries(t)
	lib, err := filepath.Abs("bin")
	if err != nil {
		t.Fatal(err)
	}
	dir, n := verifiedUnits(t, "systemd", strings.NewReplacer("/usr/local/bin/", bin+"/", "/usr/local/lib/atomic/", lib+"/").Replace)
	if n < 10 {
		t.Fatalf("%d units under systemd/, want the whole set", n)
	}

	env, err := readEnvFile(filepath.Join("systemd", "atomic.env"))
	if err != nil {
		t.Fatal(err)
	}
	// What a compose writes for the import unit.
	for k, v := range map[string]string{"STATUS": "passed", "FAILURE_TRACKER": "", "TESTS": "https://tests.example.org/1",
		"OSTREE_COMMIT": strings.Repeat("ab", 32), "OSTREE_REF": "fedora/28/x86_64/testing/atomic-host"} {
		env[k] = v
	}
	units := loadUnits(t, dir, func(s string) string { return s })
	h := newHost(t, units, nil)
	for name, u := range units {
		for _, key := range []string{"ExecStart", "ExecStartPost"} {
			for _, line := range u.get("Service", key) {
				args := h.expand(name, strings.NewReplacer("%i", "28.20180604.0", "%n", name).Replace(line), env)
				if base := filepath.Base(args[0]); base != "sitegen" && base != "mirror" {
					continue
				}
				out, err := exec.Command(args[0], append(args[1:], "--help")...).CombinedOutput()
				if err != nil {
					t.Errorf("%s: %s does not parse: %v\n%s", name, line, err, out)
				}
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
