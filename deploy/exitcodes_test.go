package deploy

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/store/local"
	"github.com/projectatomic/atomic-site/internal/testkit/fixture"
	"github.com/projectatomic/atomic-site/internal/testkit/synth"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// exitRow is one row of the exit-code table in docs/releasing.md.
type exitRow struct {
	command string // "sitegen promote", "mirror sync", "every command"
	code    int
}

var rowRE = regexp.MustCompile("^\\| (`[^`]+`|every command) \\| (\\d+) \\|")

// The exit-code table of docs/releasing.md is what the commands do: each
// row is provoked and its code checked, and every code the commands give
// for an outcome is in the table. The units treat as success only what
// the table calls an outcome.
func TestExitCodeTable(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "docs", "releasing.md"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []exitRow
	for _, line := range strings.Split(string(data), "\n") {
		m := rowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		code, _ := strconv.Atoi(m[2])
		rows = append(rows, exitRow{strings.Trim(m[1], "`"), code})
	}

	bin := binaries(t)
	sitegen, mirror := filepath.Join(bin, "sitegen"), filepath.Join(bin, "mirror")
	exit := func(name string, args ...string) int {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "AWS_CA_BUNDLE=")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Logf("%s %s → %d\n%s", filepath.Base(name), strings.Join(args, " "), ee.ExitCode(), out)
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	}

	// The example history: stable's release days fall every 14 days
	// from 2018-04-25.
	example := t.TempDir()
	if err := os.CopyFS(example, os.DirFS(filepath.Join("..", "testdata", "manifests"))); err != nil {
		t.Fatal(err)
	}
	promote := func(now string, extra ...string) int {
		return exit(sitegen, append([]string{"promote", "--from", "testing", "--to", "stable", "--manifests", example,
			"--keys", "../testdata/keys", "--key", "../testdata/test-signing.key", "--project", "..", "--now", now}, extra...)...)
	}

	// A local mirror: a release tree, and an ostree repository whose ref
	// no signed manifest names.
	release := t.TempDir()
	os.WriteFile(filepath.Join(release, "notes.txt"), []byte("notes\n"), 0o644)
	repo := filepath.Join(t.TempDir(), "repo")
	fixture.Command(t, "ostree", "--repo="+repo, "init", "--mode=archive")
	tree := t.TempDir()
	os.WriteFile(filepath.Join(tree, "hello"), []byte("hello\n"), 0o644)
	fixture.Command(t, "ostree", "--repo="+repo, "commit", "-b", "fedora/28/x86_64/atomic-host", "--tree=dir="+tree, "-s", "unsigned")
	fixture.Command(t, "ostree", "--repo="+repo, "summary", "-u")
	manifests := t.TempDir()
	signer, err := trust.LoadSigner("../testdata/test-signing.key")
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.WriteBuild(manifests, signer, synth.Build("stable", "28.20180601.0", time.Date(2018, 6, 1, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}

	provoke := map[exitRow]func() int{
		{"sitegen promote", 0}: func() int { return promote("2018-06-06T06:00:00Z") },
		{"sitegen promote", 4}: func() int { return promote("2018-06-20T06:00:00Z") },
		{"sitegen promote", 1}: func() int {
			lock := example + ".promote-lock"
			os.WriteFile(lock, []byte(`{"host":"bot.example.org","pid":4242,"started":"2018-06-20T05:59:00Z"}`), 0o644)
			defer os.Remove(lock)
			return promote("2018-06-20T06:00:00Z")
		},
		{"mirror sync", 0}: func() int {
			return exit(mirror, "sync", release, filepath.Join(t.TempDir(), "dest"), "--progress", "none")
		},
		{"mirror sync", 3}: func() int {
			dest := filepath.Join(t.TempDir(), "dest")
			d, err := local.New(dest)
			if err != nil {
				t.Fatal(err)
			}
			l, err := d.Lock(t.Context(), dest, store.Holder{Host: "here", PID: os.Getpid(), Tool: "the test"})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Release(t.Context())
			return exit(mirror, "sync", release, dest, "--progress", "none")
		},
		{"mirror sync", 4}: func() int {
			return exit(mirror, "sync", repo, filepath.Join(t.TempDir(), "dest"), "--keys", "../testdata/keys", "--manifests", manifests, "--progress", "none")
		},
		{"mirror sync", 1}: func() int { return exit(mirror, "sync", filepath.Join(t.TempDir(), "missing"), t.TempDir()) },
		{"every command", 2}: func() int {
			codes := []int{exit(sitegen, "build", "--no-such-flag"), exit(mirror, "sync", "--jobs", "many", "a", "b"),
				exit(sitegen, "promote", "--from", "testing", "--to", "stabel", "--manifests", example, "--keys", "../testdata/keys",
					"--key", "../testdata/test-signing.key", "--project", "..", "--now", "2018-06-20T06:00:00Z")}
			if slices.ContainsFunc(codes, func(c int) bool { return c != 2 }) {
				return codes[slices.IndexFunc(codes, func(c int) bool { return c != 2 })]
			}
			return 2
		},
		{"every command", 1}: func() int {
			return exit(sitegen, "verify", "--manifests", t.TempDir()+"/missing", "--keys", "../testdata/keys")
		},
	}
	for _, r := range rows {
		p, ok := provoke[r]
		if !ok {
			t.Errorf("docs/releasing.md: %s exits %d: no test provokes it", r.command, r.code)
			continue
		}
		if got := p(); got != r.code {
			t.Errorf("%s: exit %d, the table says %d", r.command, got, r.code)
		}
		delete(provoke, r)
	}
	for r := range provoke {
		t.Errorf("%s exits %d, which docs/releasing.md's table does not list", r.command, r.code)
	}

	// The units treat as success only a documented outcome: promote's 4.
	units := loadUnits(t, "systemd", func(s string) string { return s })
	for name, u := range units {
		for _, c := range u.words("Service", "SuccessExitStatus") {
			if name != "atomic-promote.service" || c != "4" {
				t.Errorf("%s: SuccessExitStatus=%s, which the table does not call an outcome of its commands", name, c)
			}
		}
	}
}
