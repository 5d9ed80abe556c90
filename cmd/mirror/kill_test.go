package main

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/store/s3"
	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
)

// mirrorProcess starts the mirror command as a process of its own.
func mirrorProcess(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asMain+"=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// killAfter kills cmd with SIGKILL after d, and says whether it was still
// running then.
func killAfter(cmd *exec.Cmd, d time.Duration) bool {
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
		return false
	case <-time.After(d):
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return true
	}
}

// timed runs a mirror process to its end and returns how long it took.
func timed(t *testing.T, args ...string) time.Duration {
	t.Helper()
	start := time.Now()
	if err := mirrorProcess(t, args...).Wait(); err != nil {
		t.Fatalf("mirror %v: %v", args, err)
	}
	return time.Since(start)
}

// Twenty syncs of new commits, each killed with SIGKILL at a seeded moment,
// each followed by a real client pull: not one pull may fail, and the
// client only ever moves forward.
func TestKilledSyncsNeverBreakClients(t *testing.T) {
	const kills = 20
	srv := s3server.Start(t)
	srv.Bucket(t, "atomic", "repo")
	dest := "s3://atomic/repo"
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	sync := []string{"sync", repo, dest, "--endpoint", srv.Endpoint, "--progress", "none"}
	commitTree(t, repo, 200, 100, "base")
	timed(t, sync...)
	c := newClient(t, srv.Endpoint+"/atomic/repo")
	if _, err := c.pull(); err != nil {
		t.Fatal(err)
	}
	commitTree(t, repo, 120, 101, "calibration")
	full := timed(t, sync...)

	start := time.Now()
	rng := rand.New(rand.NewPCG(9, 9))
	var midRun, failed int
	commits := map[string]int{}
	for i := range kills {
		commits[commitTree(t, repo, 120, uint64(200+i), "kill")] = i
		if killAfter(mirrorProcess(t, sync...), time.Duration(rng.Float64()*1.2*float64(full))) {
			midRun++
		}
		got, err := c.pull()
		if err != nil {
			failed++
			t.Errorf("pull after kill %d failed: %v", i+1, err)
		}
		t.Logf("kill %d: client at %.12s", i+1, got)
	}
	last := commitTree(t, repo, 120, 300, "last")
	timed(t, sync...)
	if got, err := c.pull(); err != nil || got != last {
		t.Fatalf("after a complete sync: client at %s, err %v; want %s", got, err, last)
	}
	t.Logf("figure: SIGKILL during sync of a new commit: %d kills (%d mid-run, a full sync taking %v), %d client pulls failed, %v in all",
		kills, midRun, full.Round(time.Millisecond), failed, time.Since(start).Round(time.Second))
}

// SIGKILLs during a --delete run: after each, the pending list is whole
// and names every object the source no longer has that is still at the
// destination, clients pull fine, and a final run converges.
func TestKilledDeletesKeepPendingConsistent(t *testing.T) {
	const kills = 6
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "atomic", "repo")
	dest := "s3://atomic/repo"
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	commitTree(t, repo, 300, 400, "old")
	commitTree(t, repo, 300, 401, "new")
	sync := []string{"sync", repo, dest, "--endpoint", srv.Endpoint, "--progress", "none",
		"--delete", "--delete-grace", "1s", "--max-delete", "100%"}
	timed(t, sync...)
	c := newClient(t, srv.Endpoint+"/atomic/repo")

	// Prune the old commit: its objects are no longer in the source.
	ostreeCmd(t, "--repo="+repo, "prune", "--refs-only", "--depth=0")
	ostreeCmd(t, "--repo="+repo, "summary", "-u")
	full := timed(t, sync...) // records them as pending
	src, err := mirror.Open(context.Background(), repo, nil)
	if err != nil {
		t.Fatal(err)
	}
	inSource := map[string]bool{}
	for _, f := range src.Files {
		inSource[f.Rel] = true
	}
	extra := func() map[string]bool {
		x := map[string]bool{}
		bucket.List(context.Background(), nil, func(o store.Object) error {
			if !inSource[o.Key] && !strings.HasPrefix(o.Key, store.StateDir) {
				x[o.Key] = true
			}
			return nil
		})
		return x
	}
	before := len(extra())
	if before == 0 {
		t.Fatal("pruning left nothing to delete")
	}
	time.Sleep(1100 * time.Millisecond) // past the grace

	rng := rand.New(rand.NewPCG(7, 7))
	midRun := 0
	for i := range kills {
		if killAfter(mirrorProcess(t, sync...), time.Duration(rng.Float64()*float64(full))) {
			midRun++
		}
		left := extra()
		pending, err := readPending(bucket)
		if err != nil {
			t.Fatalf("after kill %d: %v", i+1, err)
		}
		for k := range left {
			if _, ok := pending.Keys[k]; !ok {
				t.Errorf("after kill %d: %s is gone from the source, still at the destination, and not pending", i+1, k)
			}
		}
		if _, err := c.pull(); err != nil {
			t.Errorf("pull after kill %d: %v", i+1, err)
		}
		t.Logf("kill %d: %d of %d pruned objects left, %d pending", i+1, len(left), before, len(pending.Keys))
	}
	timed(t, sync...)
	if n := len(extra()); n != 0 {
		t.Errorf("after a complete run, %d pruned objects are left", n)
	}
	if p, _ := readPending(bucket); len(p.Keys) != 0 {
		t.Errorf("after a complete run, %d keys still pending", len(p.Keys))
	}
	out, errs, code := mirrorCmd(t, "verify", dest, "--endpoint", srv.Endpoint, "--against", repo, "--deep")
	if code != 0 {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errs)
	}
	t.Logf("figure: SIGKILL during --delete: %d kills (%d mid-run), %d pruned objects, pending list consistent after every kill, final run converged",
		kills, midRun, before)
}

// readPending reads the destination's pending list; none is empty.
func readPending(st *s3.Store) (*mirror.Pending, error) {
	p := &mirror.Pending{Keys: map[string]time.Time{}}
	r, err := st.Open(context.Background(), mirror.PendingKey)
	if err != nil {
		return p, nil
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return p, json.Unmarshal(data, p)
}
