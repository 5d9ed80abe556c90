package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
)

// The secret key and the session token never appear in what the mirror
// prints or writes, on the failure paths above all: a wrong key, an
// unreachable endpoint, --json, debug logging.
func TestSecretsNeverShown(t *testing.T) {
	const (
		secret = "s3cr3t-NEVER-SHOWN-0a1b2c3d4e5f"
		token  = "t0k3n-NEVER-SHOWN-6f5e4d3c2b1a"
	)
	srv := s3server.Start(t)
	srv.Bucket(t, "atomic", "repo")
	t.Setenv("AWS_ACCESS_KEY_ID", s3server.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret) // wrong for this server
	t.Setenv("AWS_SESSION_TOKEN", token)

	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "stable"), 0o755)
	os.WriteFile(filepath.Join(src, "stable", "a.qcow2"), []byte("image\n"), 0o644)
	local := filepath.Join(t.TempDir(), "mirror")

	for _, tc := range []struct {
		name string
		args []string
		ok   bool
	}{
		{"wrong key", []string{"sync", src, "s3://atomic/repo", "--endpoint", srv.Endpoint, "--json", "--log-level", "debug", "--progress", "log"}, false},
		{"wrong key, verify", []string{"verify", "s3://atomic/repo", "--endpoint", srv.Endpoint, "--log-level", "debug"}, false},
		{"unreachable endpoint", []string{"sync", src, "s3://atomic/repo", "--endpoint", "http://127.0.0.1:1", "--json", "--log-level", "debug"}, false},
		{"dry run", []string{"sync", src, "s3://atomic/repo", "--endpoint", srv.Endpoint, "--dry-run", "--log-level", "debug"}, false},
		{"local destination", []string{"sync", src, local, "--json", "--log-level", "debug", "--delete", "--max-delete", "100%"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := mirrorCmd(t, tc.args...)
			if (code == 0) != tc.ok {
				t.Fatalf("exit %d, want success %v\n%s%s", code, tc.ok, out, errs)
			}
			for _, s := range []string{secret, token} {
				if strings.Contains(out, s) || strings.Contains(errs, s) {
					t.Errorf("a credential appears in the output:\n%s%s", out, errs)
				}
			}
		})
	}
	// Nor in any file written: the local mirror (its trace and pending
	// list included) and the source.
	for _, dir := range []string{src, local} {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, _ := os.ReadFile(p)
			if strings.Contains(string(data), secret) || strings.Contains(string(data), token) {
				t.Errorf("%s holds a credential", p)
			}
			return nil
		})
	}
	if _, err := os.Stat(filepath.Join(local, ".mirror", "trace.json")); err != nil {
		t.Errorf("the local sync wrote no trace to search: %v", err)
	}
}
