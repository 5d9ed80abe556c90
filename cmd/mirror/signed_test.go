package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/projectatomic/atomic-site/internal/testkit/fixture"
	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
)

// signedClient is a client that checks the signatures of commits and of
// the summary. Its repository is bare-user, as a host's is: ostree uses
// static deltas only there.
func signedClient(t *testing.T, url, pub string) client {
	c := client{t, filepath.Join(t.TempDir(), "client")}
	ostreeCmd(t, "--repo="+c.repo, "init", "--mode=bare-user")
	ostreeCmd(t, "--repo="+c.repo, "remote", "add", "--set=gpg-verify=true", "--set=gpg-verify-summary=true",
		"--gpg-import="+pub, "origin", url)
	return c
}

// A signed repository with a static delta goes through the mirror: a
// client that verifies commits and summary pulls the first commit, then
// the second through the delta, and fsck passes.
func TestSignedRepositoryWithDelta(t *testing.T) {
	srv := s3server.Start(t)
	srv.Bucket(t, "atomic", "repo")
	g := fixture.GPGKey(t)
	sign, pub := g.Sign(), g.Public
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	first := commitTreeSigned(t, repo, 60, 71, "first", sign)
	sync := []string{"sync", repo, "s3://atomic/repo", "--endpoint", srv.Endpoint, "--progress", "none"}
	if _, errs, code := mirrorCmd(t, sync...); code != 0 {
		t.Fatal(errs)
	}
	c := signedClient(t, srv.Endpoint+"/atomic/repo", pub)
	if got, err := c.pull(); err != nil || got != first {
		t.Fatalf("pull: %s, %v", got, err)
	}

	second := commitTreeSigned(t, repo, 60, 72, "second", sign)
	ostreeCmd(t, "--repo="+repo, "static-delta", "generate", "--from="+first, "--to="+second)
	ostreeCmd(t, append([]string{"--repo=" + repo, "summary", "-u"}, sign...)...)
	if _, errs, code := mirrorCmd(t, sync...); code != 0 {
		t.Fatal(errs)
	}
	// --require-static-deltas: the pull fails unless it goes through the
	// delta the mirror published.
	if got, err := c.pull("--require-static-deltas"); err != nil || got != second {
		t.Fatalf("client at %s, %v; want %s", got, err, second)
	}
}

// The window between summary and summary.sig, measured: a client that
// clears its summary cache pulls in a loop while 20 signed commits are
// synced. ostree signs its summary in a second file, so no order of two
// uploads closes the window; the mirror makes it as short as two requests.
// Any failure must be that window (a signature that does not match), never
// a missing object.
func TestSummaryWindow(t *testing.T) {
	srv := s3server.Start(t)
	srv.Bucket(t, "atomic", "repo")
	g := fixture.GPGKey(t)
	sign, pub := g.Sign(), g.Public
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	commitTreeSigned(t, repo, 20, 80, "0", sign)
	syncArgs := []string{"sync", repo, "s3://atomic/repo", "--endpoint", srv.Endpoint, "--progress", "none", "--json"}
	if _, errs, code := mirrorCmd(t, syncArgs...); code != 0 {
		t.Fatal(errs)
	}
	c := signedClient(t, srv.Endpoint+"/atomic/repo", pub)

	stop := make(chan struct{})
	var pulls, failures int
	var failed []string
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			os.RemoveAll(filepath.Join(c.repo, "tmp", "cache"))
			out, err := exec.Command("ostree", "--repo="+c.repo, "pull", "origin", ref).CombinedOutput()
			pulls++
			if err != nil {
				failures++
				failed = append(failed, strings.TrimSpace(string(out)))
			}
		}
	})
	var last string
	var gaps []float64
	for i := 1; i <= 20; i++ {
		last = commitTreeSigned(t, repo, 20, 80+uint64(i), "commit", sign)
		out, errs, code := mirrorCmd(t, syncArgs...)
		if code != 0 {
			t.Fatalf("sync %d: %s", i, errs)
		}
		var rep struct {
			Gap float64 `json:"signed_pair_gap_seconds"`
		}
		json.Unmarshal([]byte(out), &rep)
		gaps = append(gaps, rep.Gap*1000)
	}
	close(stop)
	wg.Wait()
	for _, f := range failed {
		if strings.Contains(f, "404") || !strings.Contains(strings.ToLower(f), "signature") {
			t.Errorf("a pull failed for a reason other than the summary window: %s", f)
		}
	}
	if got, err := c.pull(); err != nil || got != last {
		t.Fatalf("final pull: %s, %v; want %s", got, err, last)
	}
	slices.Sort(gaps)
	t.Logf("figure: summary window: %d pulls during 20 signed syncs, %d failed with a signature mismatch; gap between summary and summary.sig: median %.1f ms, largest %.1f ms",
		pulls, failures, gaps[len(gaps)/2], gaps[len(gaps)-1])
	if pulls < 20 {
		t.Errorf("only %d pulls: the window was not exercised", pulls)
	}
}
