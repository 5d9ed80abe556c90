package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/testkit/fixture"
	"github.com/projectatomic/atomic-site/internal/testkit/synth"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// promote --ostree-repo moves the release ref to the promoted commit in a
// real archive repository with GPG-signed commits, and signs the summary:
// the summary lists it, and a real client that checks both signatures
// pulls it. A candidate whose commit is not in the repository is refused
// before anything is written.
func TestPromoteMovesOSTreeRef(t *testing.T) {
	const testingRef, stableRef = "fedora/28/x86_64/testing/atomic-host", "fedora/28/x86_64/atomic-host"
	g := fixture.GPGKey(t)
	home, key := g.Home, g.ID
	repo := filepath.Join(t.TempDir(), "repo")
	fixture.Command(t, "ostree", "--repo="+repo, "init", "--mode=archive")
	manifests := filepath.Join(t.TempDir(), "manifests")
	signer, err := trust.LoadSigner(testKey)
	if err != nil {
		t.Fatal(err)
	}
	var commits []string
	var candidates []*manifest.Build
	for d := range 3 {
		tree := t.TempDir()
		os.MkdirAll(filepath.Join(tree, "usr", "bin"), 0o755)
		os.WriteFile(filepath.Join(tree, "usr", "bin", "atomic"), []byte("build of day "+candidateRelease(d)), 0o755)
		// The compose binds each candidate to the release ref too, so
		// that clients accept it there once promoted; day 1's does not.
		args := []string{"--repo=" + repo, "commit", "-b", testingRef, "--tree=dir=" + tree, "-s", candidateRelease(d),
			"--gpg-sign=" + key, "--gpg-homedir=" + home}
		if d != 1 {
			args = append(args, "--bind-ref="+stableRef)
		}
		c := fixture.Command(t, "ostree", args...)
		commits = append(commits, c)
		b := synth.Build("testing", candidateRelease(d), at(d, 0))
		b.OSTree.Ref, b.OSTree.Commit = testingRef, c
		candidates = append(candidates, b)
	}
	sign := func(b *manifest.Build) {
		t.Helper()
		if err := synth.WriteBuild(manifests, signer, b); err != nil {
			t.Fatal(err)
		}
	}
	sign(candidates[0])
	sign(candidates[1])
	fixture.Command(t, "ostree", "--repo="+repo, "summary", "-u", "--gpg-sign="+key, "--gpg-homedir="+home)

	promote := func(d int, extra ...string) (string, string, int) {
		return sitegen(append([]string{"promote", "--from", "testing", "--to", "stable", "--key", testKey,
			"--now", at(d, 6).Format(time.RFC3339), "--manifests", manifests, "--keys", testKeys, "--project", "../..",
			"--ostree-repo", repo, "--gpg-sign", key, "--gpg-homedir", home}, extra...)...)
	}
	// Day 1's candidate is bound to the testing ref only: refused before
	// anything is written, as clients would refuse it as the release.
	out, errs, code := promote(1, "--ref", stableRef)
	if code != 1 || !strings.Contains(errs, "commit "+commits[1]+" is bound to ['"+testingRef+"'] only") || !strings.Contains(errs, "--bind-ref="+stableRef) {
		t.Errorf("promote of a commit bound to the testing ref only: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(manifests, "stable")); err == nil {
		t.Error("a release manifest was written")
	}
	sign(candidates[2]) // the nightly build of day 2
	out, errs, code = promote(2, "--ref", stableRef)
	if code != 0 {
		t.Fatalf("promote: exit %d\n%s%s", code, out, errs)
	}
	if got := fixture.Command(t, "ostree", "--repo="+repo, "rev-parse", stableRef); got != commits[2] {
		t.Fatalf("%s is at %s, want the promoted commit %s", stableRef, got, commits[2])
	}
	if view := fixture.Command(t, "ostree", "--repo="+repo, "summary", "--view"); !strings.Contains(view, stableRef) || !strings.Contains(view, commits[2]) {
		t.Errorf("summary --view does not list %s at %s:\n%s", stableRef, commits[2], view)
	}

	// A client that checks the commit and the summary signatures.
	srv := httptest.NewServer(http.FileServer(http.Dir(repo)))
	defer srv.Close()
	pub := filepath.Join(t.TempDir(), "key.asc")
	os.WriteFile(pub, []byte(fixture.Command(t, "gpg", "--homedir", home, "--armor", "--export", key)), 0o644)
	client := filepath.Join(t.TempDir(), "client")
	fixture.Command(t, "ostree", "--repo="+client, "init", "--mode=archive")
	fixture.Command(t, "ostree", "--repo="+client, "remote", "add", "--set=gpg-verify=true", "--set=gpg-verify-summary=true",
		"--gpg-import="+pub, "origin", srv.URL)
	fixture.Command(t, "ostree", "--repo="+client, "pull", "origin", stableRef)
	fixture.Command(t, "ostree", "--repo="+client, "fsck")
	if got := fixture.Command(t, "ostree", "--repo="+client, "rev-parse", "origin:"+stableRef); got != commits[2] {
		t.Errorf("client pulled %s, want %s", got, commits[2])
	}

	// A new candidate naming a commit the repository does not hold.
	b := synth.Build("testing", candidateRelease(20), at(20, 0))
	b.OSTree.Ref = testingRef // its commit is synth's made-up one
	if err := synth.WriteBuild(manifests, signer, b); err != nil {
		t.Fatal(err)
	}
	out, errs, code = promote(28)
	if code != 1 || !strings.Contains(errs, "commit "+b.OSTree.Commit+" is not in "+repo) {
		t.Errorf("promote of a commit the repository lacks: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(manifests, "stable", candidateRelease(20)+".json")); err == nil {
		t.Error("its manifest was written")
	}
	if got := fixture.Command(t, "ostree", "--repo="+repo, "rev-parse", stableRef); got != commits[2] {
		t.Errorf("the ref moved to %s", got)
	}
}

// refs makes a repository's refs follow the signed history: candidates
// are committed without moving a public ref (--orphan); a passed one moves
// the testing ref, a failed one moves nothing, a revoked one puts the ref
// back on the build offered in its place, and running refs again changes
// nothing, the summary included.
func TestRefsFollowTheHistory(t *testing.T) {
	const testingRef = "fedora/28/x86_64/testing/atomic-host"
	g := fixture.GPGKey(t)
	home, key := g.Home, g.ID
	repo := filepath.Join(t.TempDir(), "repo")
	fixture.Command(t, "ostree", "--repo="+repo, "init", "--mode=archive")
	manifests := filepath.Join(t.TempDir(), "manifests")
	signer, err := trust.LoadSigner(testKey)
	if err != nil {
		t.Fatal(err)
	}
	refs := func(d int) string {
		t.Helper()
		out, errs, code := sitegen("refs", "--manifests", manifests, "--keys", testKeys, "--project", "../..",
			"--now", at(d, 6).Format(time.RFC3339), "--ostree-repo", repo, "--gpg-sign", key, "--gpg-homedir", home)
		if code != 0 {
			t.Fatalf("day %d: refs exited %d\n%s%s", d, code, out, errs)
		}
		return out
	}
	ref := func() string {
		out, _ := exec.Command("ostree", "--repo="+repo, "rev-parse", testingRef).Output()
		return strings.TrimSpace(string(out))
	}
	var commits []string
	for d, failed := range []bool{false, true, false} {
		tree := t.TempDir()
		os.MkdirAll(filepath.Join(tree, "usr", "bin"), 0o755)
		os.WriteFile(filepath.Join(tree, "usr", "bin", "atomic"), []byte("build of day "+candidateRelease(d)), 0o755)
		c := fixture.Command(t, "ostree", "--repo="+repo, "commit", "--orphan", "--tree=dir="+tree, "-s", candidateRelease(d),
			"--gpg-sign="+key, "--gpg-homedir="+home)
		commits = append(commits, c)
		if got := ref(); d > 0 && got != commits[0] {
			t.Fatalf("day %d: the compose moved the testing ref to %s", d, got)
		}
		b := synth.Build("testing", candidateRelease(d), at(d, 0))
		b.OSTree.Ref, b.OSTree.Commit = testingRef, c
		if failed {
			b = synth.Failed(b, tracker(d))
		}
		if err := synth.WriteBuild(manifests, signer, b); err != nil {
			t.Fatal(err)
		}
		out := refs(d)
		switch {
		case d == 0 && (!strings.Contains(out, "created "+testingRef+" at "+c) || ref() != c):
			t.Errorf("day 0: %q; ref at %s, want created at %s", out, ref(), c)
		case d == 1 && (!strings.Contains(out, "every ref names its stream's current build") || ref() != commits[0]):
			t.Errorf("day 1 (failed): %q; ref at %s, want it left at %s", out, ref(), commits[0])
		case d == 2 && (!strings.Contains(out, "moved "+testingRef+" from "+commits[0]+" to "+c) || ref() != c):
			t.Errorf("day 2: %q; ref at %s, want moved to %s", out, ref(), c)
		}
		if view := fixture.Command(t, "ostree", "--repo="+repo, "summary", "--view"); !strings.Contains(view, ref()) {
			t.Errorf("day %d: the summary does not list the ref at %s", d, ref())
		}
	}
	revoke(t, manifests, signer, "testing", candidateRelease(2), at(2, 3))
	if out := refs(2); !strings.Contains(out, "moved "+testingRef+" from "+commits[2]+" to "+commits[0]) {
		t.Errorf("after the revocation: %q; want the ref back on %s", out, commits[0])
	}
	summary, _ := os.ReadFile(filepath.Join(repo, "summary"))
	if out := refs(3); !strings.Contains(out, "every ref names its stream's current build") {
		t.Errorf("again: %q, want nothing to change", out)
	}
	if again, _ := os.ReadFile(filepath.Join(repo, "summary")); string(again) != string(summary) {
		t.Error("running refs again rewrote the summary")
	}
}
