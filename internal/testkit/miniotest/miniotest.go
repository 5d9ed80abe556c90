// Package miniotest runs a real MinIO server on loopback for tests and
// benchmarks: a free port, a temporary data directory, stopped at the end.
// The server binary is installed by scripts/deps.sh (make test does it).
package miniotest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/store/s3"
)

// Credentials of the test server; tests export them as AWS_* for the
// credential chain.
const (
	AccessKey = "mirrortest"
	SecretKey = "mirrortest-secret"
)

// Server is a running MinIO.
type Server struct {
	Endpoint string // http://127.0.0.1:PORT
	cmd      *exec.Cmd
	dataDir  string
}

// ToolsDir is where scripts/deps.sh installs MinIO:
// $ATOMIC_TOOLS, else ~/.cache/atomic-site-tools/bin.
func ToolsDir() string {
	if d := os.Getenv("ATOMIC_TOOLS"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "atomic-site-tools", "bin")
}

// Binary finds the minio server binary.
func Binary() (string, error) {
	p := filepath.Join(ToolsDir(), "minio")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("minio server not found in %s or PATH: run scripts/deps.sh (make test does)", ToolsDir())
}

// Start runs a server for the test and stops it when the test ends. A
// missing binary fails the test: it is never skipped.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := StartServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	t.Setenv("AWS_ACCESS_KEY_ID", AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", SecretKey)
	t.Setenv("AWS_CA_BUNDLE", "") // this machine sets it; it breaks plain http
	return s
}

// StartServer runs a server with its data in dataDir.
func StartServer(dataDir string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	console, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "server", dataDir, "--address", addr, "--console-address", fmt.Sprintf("127.0.0.1:%d", console), "--quiet")
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+AccessKey, "MINIO_ROOT_PASSWORD="+SecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "AWS_CA_BUNDLE=")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Endpoint: "http://" + addr, cmd: cmd, dataDir: dataDir}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.Endpoint + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("minio did not start on %s: %s", addr, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop ends the server.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

// Bucket creates a bucket readable by anyone and returns a store on
// s3://bucket/prefix.
func (s *Server) Bucket(t testing.TB, bucket, prefix string) *s3.Store {
	t.Helper()
	st, err := s.NewBucket(context.Background(), bucket, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// NewBucket is Bucket without a test.
func (s *Server) NewBucket(ctx context.Context, bucket, prefix string) (*s3.Store, error) {
	os.Setenv("AWS_ACCESS_KEY_ID", AccessKey)
	os.Setenv("AWS_SECRET_ACCESS_KEY", SecretKey)
	st, err := s3.New("s3://"+bucket+"/"+prefix, s3.Options{Endpoint: s.Endpoint})
	if err != nil {
		return nil, err
	}
	// MinIO answers "ready" a moment before it takes bucket operations
	// ("Server not initialized yet"), more so on a loaded machine.
	deadline := time.Now().Add(60 * time.Second)
	for {
		err = st.CreateBucket(ctx)
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "not initialized") || time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := st.AllowAnonymousRead(ctx); err != nil {
		return nil, err
	}
	return st, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
