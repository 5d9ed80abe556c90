package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/testkit/faultproxy"
	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
)

// maxRuns bounds how many runs a sync through faults may take to converge.
const maxRuns = 8

// Through a proxy that fails a share of all requests (500, 503 SlowDown,
// resets mid-body, stalls), a sync converges within maxRuns, both the
// first sync of a repository and the sync of a new commit; then the mirror
// passes verify --deep and a real client pulls and fscks it.
func TestSyncConvergesThroughFaults(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		seed uint64
	}{{0.10, 10}, {0.30, 30}} {
		t.Run(fmt.Sprintf("%.0f%%", tc.rate*100), func(t *testing.T) {
			srv := s3server.Start(t)
			srv.Bucket(t, "atomic", "repo")
			proxy, err := faultproxy.New(srv.Endpoint, tc.rate, tc.seed, 300*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			defer proxy.Close()
			repo := filepath.Join(t.TempDir(), "repo")
			ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
			dest := "s3://atomic/repo"

			converge := func(what string) int {
				t.Helper()
				for run := 1; run <= maxRuns; run++ {
					_, errs, code := mirrorCmd(t, "sync", repo, dest, "--endpoint", proxy.URL, "--progress", "none", "--delete", "--delete-grace", "0s", "--max-delete", "100%")
					if code == 0 {
						return run
					}
					t.Logf("%s: run %d failed (as faults may make it): %s", what, run, firstLine(errs))
				}
				t.Fatalf("%s: no convergence in %d runs at %.0f%% faults", what, maxRuns, tc.rate*100)
				return 0
			}
			commitTree(t, repo, 300, tc.seed, "first")
			first := converge("initial sync")
			second := commitTree(t, repo, 300, tc.seed+1, "second")
			next := converge("sync of a new commit")

			// The mirror itself, read without faults.
			out, errs, code := mirrorCmd(t, "verify", dest, "--endpoint", srv.Endpoint, "--against", repo, "--deep")
			if code != 0 {
				t.Fatalf("verify --deep after convergence: exit %d\n%s%s", code, out, errs)
			}
			if got, err := newClient(t, srv.Endpoint+"/atomic/repo").pull(); err != nil || got != second {
				t.Fatalf("client pull: at %s, %v; want %s", got, err, second)
			}
			c := proxy.Counts()
			t.Logf("figure: faults %.0f%%: %d requests, %d faults (%d 500, %d 503 SlowDown, %d resets mid-body, %d stalls); runs to converge: initial %d, new commit %d; verify --deep passed; ostree pull + fsck passed",
				tc.rate*100, proxy.Requests.Load(), proxy.Injected(), c[faultproxy.InternalError], c[faultproxy.SlowDown], c[faultproxy.Reset], c[faultproxy.Stall], first, next)
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
