package main

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/testkit/synth"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// sitegen as a release bot installs it: the binary alone, run from an
// empty directory with only --manifests, --keys and --out, builds the same
// site as the golden files, from the files built into it.
func TestInstalledBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sitegen")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	repo, _ := filepath.Abs("../..")
	empty := t.TempDir()
	cmd := exec.Command(bin, "build", "--manifests", filepath.Join(repo, "testdata", "manifests"),
		"--keys", filepath.Join(repo, "testdata", "keys"), "--now", "2018-06-10T00:00:00Z", "--out", "public")
	cmd.Dir = empty
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir()) // a cache of its own: the first run extracts
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sitegen build from an empty directory: %v\n%s", err, out)
	}
	golden := filepath.Join(repo, "internal", "builder", "testdata", "golden")
	n := 0
	filepath.WalkDir(golden, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(golden, p)
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(empty, "public", strings.TrimSuffix(rel, ".golden")))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s differs from the golden file (%v)", strings.TrimSuffix(rel, ".golden"), err)
		}
		n++
		return nil
	})
	if n < 30 {
		t.Errorf("compared %d files, want the whole golden site", n)
	}
	t.Run("killed", func(t *testing.T) { killedBuilds(t, bin) })
}

// A binary built from the checkout as make install builds it names its
// commit, and the tag or pseudo-version go derives from it.
func TestVersionFromCheckout(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse HEAD: %v (this test reads the checkout)", err)
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := "."
	if fi, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err == nil && !fi.IsDir() {
		// cmd/go stamps VCS information only below a .git directory,
		// and a linked worktree has a .git file: build from a clone at
		// the same commit instead.
		clone := t.TempDir()
		for _, args := range [][]string{{"clone", "--quiet", "--no-checkout", strings.TrimSpace(string(top)), clone},
			{"-C", clone, "checkout", "--quiet", strings.TrimSpace(string(head))}} {
			if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
				t.Fatalf("git %v: %v\n%s", args, err, out)
			}
		}
		dir = filepath.Join(clone, "cmd", "sitegen")
	}
	bin := filepath.Join(t.TempDir(), "sitegen")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	v := string(out)
	if !strings.Contains(v, "revision "+strings.TrimSpace(string(head))) || strings.Contains(v, "(devel)") || !strings.HasPrefix(v, "sitegen v") {
		t.Errorf("--version = %q; want a version and the revision %s", v, head)
	}
}

// Builds of a larger history killed with SIGKILL at seeded moments leave
// the published site whole; the next build removes what they left and
// says so.
func killedBuilds(t *testing.T, bin string) {
	work := t.TempDir()
	manifests := filepath.Join(work, "manifests")
	signer, err := trust.LoadSigner(testKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.History(manifests, signer, synth.Spec{Streams: []string{"stable", "testing"}, Builds: 300,
		Arches: []string{"x86_64"}, Start: time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	repo, _ := filepath.Abs("../..")
	args := []string{"build", "--manifests", manifests, "--keys", filepath.Join(repo, "testdata", "keys"),
		"--now", "2017-06-01T00:00:00Z", "--out", "public"}
	run := func() *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(work, "cache"))
		return cmd
	}
	start := time.Now()
	if out, err := run().CombinedOutput(); err != nil {
		t.Fatalf("first build: %v\n%s", err, out)
	}
	full := time.Since(start)
	index, _ := os.ReadFile(filepath.Join(work, "public", "index.html"))
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range 3 {
		cmd := run()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration((0.3 + 0.6*rng.Float64()) * float64(full)))
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if got, _ := os.ReadFile(filepath.Join(work, "public", "index.html")); string(got) != string(index) {
			t.Fatalf("after kill %d the published site is not whole", i+1)
		}
	}
	out, err := run().CombinedOutput()
	if err != nil {
		t.Fatalf("build after the kills: %v\n%s", err, out)
	}
	leftovers, _ := filepath.Glob(filepath.Join(work, ".public.*"))
	if len(leftovers) != 0 {
		t.Errorf("left beside the site: %v", leftovers)
	}
	t.Logf("after 3 kills (a full build of 300 builds taking %v): %s", full.Round(time.Millisecond), strings.TrimSpace(string(out)))
}
