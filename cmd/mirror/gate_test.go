package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
	"github.com/projectatomic/atomic-site/internal/testkit/synth"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// The ref gate, end to end: a ref moves on the mirror only to a commit
// that a signed, released, unrevoked manifest names. A commit nobody
// signed off, a failed build and a revoked one are all refused, the
// mirror's ref and summary stay where they were, and a real client goes on
// pulling the good commit.
func TestRefGate(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "atomic", "repo")
	dest := "s3://atomic/repo"
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	manifests := t.TempDir()
	signer, err := trust.LoadSigner("../../testdata/test-signing.key")
	if err != nil {
		t.Fatal(err)
	}
	sign := func(release string, day int, commit string, failed bool) {
		t.Helper()
		b := synth.Build("stable", release, time.Date(2018, 5, day, 0, 0, 0, 0, time.UTC))
		b.OSTree.Ref, b.OSTree.Commit = ref, commit
		if failed {
			b = synth.Failed(b, "https://bugzilla.redhat.com/show_bug.cgi?id=1")
		}
		if err := synth.WriteBuild(manifests, signer, b); err != nil {
			t.Fatal(err)
		}
	}
	sync := func() (string, int) {
		t.Helper()
		_, errs, code := mirrorCmd(t, "sync", repo, dest, "--endpoint", srv.Endpoint, "--keys", "../../testdata/keys",
			"--manifests", manifests, "--progress", "none")
		return errs, code
	}
	c := newClient(t, srv.Endpoint+"/atomic/repo")
	pull := func(want string) {
		t.Helper()
		if got, err := c.pull(); err != nil || got != want {
			t.Fatalf("client pull: at %s, %v; want %s", got, err, want)
		}
	}

	good := commitTree(t, repo, 50, 11, "good")
	sign("28.1", 1, good, false)
	if errs, code := sync(); code != 0 {
		t.Fatalf("sync of a signed commit: exit %d: %s", code, errs)
	}
	pull(good)

	for _, tc := range []struct {
		name string
		sign func(commit string)
		want string
	}{
		{"unsigned", func(string) {}, "no signed, released manifest names this commit for this ref"},
		{"failed", func(c string) { sign("28.2", 2, c, true) }, "build stable/28.2 failed its tests"},
		{"revoked", func(c string) {
			sign("28.3", 3, c, false)
			if _, err := catalog.Revoke(manifests, signer, manifest.Revocation{Stream: "stable", Release: "28.3",
				Reason: "https://bugzilla.redhat.com/show_bug.cgi?id=3", RevokedAt: time.Date(2018, 5, 4, 0, 0, 0, 0, time.UTC)}); err != nil {
				t.Fatal(err)
			}
		}, "build stable/28.3 is revoked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := commitTree(t, repo, 50, uint64(len(tc.name)), tc.name)
			tc.sign(bad)
			errs, code := sync()
			if code != exitHeldBack {
				t.Fatalf("sync with a ref the manifests do not allow: exit %d, want %d (held back)\n%s", code, exitHeldBack, errs)
			}
			if want := "held back by the ref gate: ref " + ref + " → commit " + bad + ": " + tc.want; !strings.Contains(errs, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errs)
			}
			// The trace says what was held back, and why.
			tr, err := mirror.ReadTrace(context.Background(), bucket)
			if err != nil || tr == nil || len(tr.HeldBack) != 1 || tr.HeldBack[0].Ref != ref || tr.HeldBack[0].Commit != bad ||
				!strings.Contains(tr.HeldBack[0].Reason, tc.want) {
				t.Errorf("trace %+v, %v; want %s → %s held back: %s", tr, err, ref, bad, tc.want)
			}
			// Objects may go up; pointers may not.
			pull(good)
			out, _, code := mirrorCmd(t, "verify", dest, "--endpoint", srv.Endpoint, "--keys", "../../testdata/keys", "--manifests", manifests)
			if code != 0 {
				t.Errorf("verify of the held-back mirror: exit %d\n%s", code, out)
			}
		})
	}

	// verify applies the same gate: revoking the good build makes the
	// mirror's ref a problem.
	if _, err := catalog.Revoke(manifests, signer, manifest.Revocation{Stream: "stable", Release: "28.1",
		Reason: "https://bugzilla.redhat.com/show_bug.cgi?id=4", RevokedAt: time.Date(2018, 5, 5, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	out, _, code := mirrorCmd(t, "verify", dest, "--endpoint", srv.Endpoint, "--keys", "../../testdata/keys", "--manifests", manifests)
	if code == 0 || !strings.Contains(out, "refs/heads/"+ref+": ref "+ref+" → commit "+good+": build stable/28.1 is revoked") {
		t.Errorf("verify after revoking the published build: exit %d\n%s", code, out)
	}
}
