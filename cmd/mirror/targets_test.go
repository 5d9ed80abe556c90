package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
)

// Several destinations at once, from a --config file, each with its own
// report: two MinIO buckets and a local directory.
func TestSyncTargets(t *testing.T) {
	srv := s3server.Start(t)
	srv.Bucket(t, "us-east", "atomic")
	srv.Bucket(t, "eu-west", "atomic")
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	commitTree(t, repo, 50, 7, "one")
	local := filepath.Join(t.TempDir(), "local")
	cfg := filepath.Join(t.TempDir(), "targets.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
[[target]]
name = "us-east"
endpoint = %[1]q
bucket = "us-east"
prefix = "atomic"

[[target]]
name = "eu-west"
endpoint = %[1]q
bucket = "eu-west"
prefix = "atomic"

[[target]]
name = "staging"
dir = %[2]q
`, srv.Endpoint, local)), 0o644)

	out, errs, code := mirrorCmd(t, "sync", repo, "--config", cfg, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var reports []struct {
		Target   string `json:"target"`
		Files    int    `json:"uploaded_files"`
		Complete bool   `json:"complete"`
	}
	if err := json.Unmarshal([]byte(out), &reports); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(reports) != 3 {
		t.Fatalf("%d reports, want 3: %s", len(reports), out)
	}
	for _, r := range reports {
		if !r.Complete || r.Files < 50 {
			t.Errorf("target %s: %+v", r.Target, r)
		}
	}
	if _, err := os.Stat(filepath.Join(local, "summary")); err != nil {
		t.Errorf("local target: %v", err)
	}

	// A bad target fails the run and says which.
	os.WriteFile(cfg, []byte(fmt.Sprintf("[[target]]\nname = \"gone\"\nendpoint = %q\nbucket = \"no-such-bucket\"\n", srv.Endpoint)), 0o644)
	_, errs, code = mirrorCmd(t, "sync", repo, "--config", cfg)
	if code == 0 || !strings.Contains(errs, "target gone") || !strings.Contains(errs, "no such bucket") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// watch syncs again when a new compose lands in the source.
func TestWatch(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	ostreeCmd(t, "--repo="+repo, "init", "--mode=archive")
	commitTree(t, repo, 10, 8, "one")
	dst := filepath.Join(t.TempDir(), "mirror")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var errb bytes.Buffer
	go func() {
		done <- run(ctx, []string{"watch", repo, dst, "--debounce", "200ms", "--progress", "none"}, &bytes.Buffer{}, &errb)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("watch exited %d: %s", code, errb.String())
		}
	}()
	refFile := filepath.Join(dst, "refs", "heads", filepath.FromSlash(ref))
	wait(t, func() bool { _, err := os.Stat(refFile); return err == nil })
	second := commitTree(t, repo, 10, 9, "two")
	wait(t, func() bool {
		b, _ := os.ReadFile(refFile)
		return strings.TrimSpace(string(b)) == second
	})
}

func wait(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
