// Package s3server runs real S3 servers on loopback for tests and
// benchmarks: MinIO, and SeaweedFS's S3 gateway, a second, independent
// implementation that the stores are tested against too. Each gets free
// ports and a temporary data directory, and is stopped at the end. The
// binaries are built by scripts/deps.sh (make test does it); a missing one
// fails the test, it is never skipped.
package s3server

import (
	"context"
	"errors"
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
	"github.com/projectatomic/atomic-site/internal/store/s3/s3test"
)

// Credentials of the test servers; tests export them as AWS_* for the
// credential chain.
const (
	AccessKey = "mirrortest"
	SecretKey = "mirrortest-secret"
)

// The servers.
const (
	MinIO     = "MinIO"
	SeaweedFS = "SeaweedFS"
)

// Server is a running S3 server.
type Server struct {
	Kind     string // MinIO or SeaweedFS
	Endpoint string // http://127.0.0.1:PORT
	cmd      *exec.Cmd
	dataDir  string
}

// ToolsDir is where scripts/deps.sh installs the servers:
// $ATOMIC_TOOLS, else ~/.cache/atomic-site-tools/bin.
func ToolsDir() string {
	if d := os.Getenv("ATOMIC_TOOLS"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "atomic-site-tools", "bin")
}

// binary finds a server binary in ToolsDir or on PATH.
func binary(name string) (string, error) {
	p := filepath.Join(ToolsDir(), name)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found in %s or PATH: run scripts/deps.sh (make test does)", name, ToolsDir())
}

// Start runs a MinIO server for the test and stops it when the test ends.
func Start(t testing.TB) *Server { return StartKind(t, MinIO) }

// StartKind runs a server of the given kind for the test.
func StartKind(t testing.TB, kind string) *Server {
	t.Helper()
	start := StartServer
	if kind == SeaweedFS {
		start = StartSeaweedFS
	}
	s, err := start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	t.Setenv("AWS_ACCESS_KEY_ID", AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", SecretKey)
	t.Setenv("AWS_CA_BUNDLE", "") // this machine sets it; it breaks plain http
	return s
}

// StartServer runs a MinIO server with its data in dataDir.
func StartServer(dataDir string) (*Server, error) {
	bin, err := binary("minio")
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
	return run(MinIO, cmd, addr, dataDir, "/minio/health/ready")
}

// seaweedIdentities are SeaweedFS's S3 users: the test's keys, and anyone
// reading, as a public mirror is read.
const seaweedIdentities = `{"identities": [
  {"name": "anonymous", "actions": ["Read"]},
  {"name": "test", "credentials": [{"accessKey": %q, "secretKey": %q}], "actions": ["Admin", "Read", "List", "Tagging", "Write"]}
]}`

// StartSeaweedFS runs SeaweedFS (master, volume, filer and S3 gateway in
// one process) with its data in dataDir. Each of its servers takes a port
// and that port plus 10000 for gRPC; the gateway's side servers (Iceberg,
// Lance) and its telemetry are off.
func StartSeaweedFS(dataDir string) (*Server, error) {
	bin, err := binary("weed")
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dataDir, "s3.json")
	if err := os.WriteFile(conf, fmt.Appendf(nil, seaweedIdentities, AccessKey, SecretKey), 0o600); err != nil {
		return nil, err
	}
	data := filepath.Join(dataDir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	ports, err := grpcPairs(4)
	if err != nil {
		return nil, err
	}
	master, volume, filer, s3port := ports[0], ports[1], ports[2], ports[3]
	cmd := exec.Command(bin, "server", "-dir="+data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		fmt.Sprint("-master.port=", master), fmt.Sprint("-volume.port=", volume), fmt.Sprint("-filer.port=", filer),
		"-s3", fmt.Sprint("-s3.port=", s3port), "-s3.config="+conf, "-s3.port.iceberg=0", "-s3.port.lance=0",
		"-master.telemetry=false", "-metricsPort=0", "-master.volumeSizeLimitMB=64", "-volume.max=0")
	cmd.Env = append(os.Environ(), "AWS_CA_BUNDLE=")
	return run(SeaweedFS, cmd, fmt.Sprintf("127.0.0.1:%d", s3port), dataDir, "/status")
}

// run starts cmd and waits until the server answers at addr+ready.
func run(kind string, cmd *exec.Cmd, addr, dataDir, ready string) (*Server, error) {
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Kind: kind, Endpoint: "http://" + addr, cmd: cmd, dataDir: dataDir}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.Endpoint + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("%s did not start on %s: %s", kind, addr, logs.String())
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
	admin := s3test.Admin{Endpoint: s.Endpoint, AccessKey: AccessKey, SecretKey: SecretKey}
	// A server answers "ready" a moment before it takes bucket operations
	// (MinIO: "Server not initialized yet"; SeaweedFS: until its volume
	// server has joined), more so on a loaded machine.
	deadline := time.Now().Add(60 * time.Second)
	for {
		err = admin.CreateBucket(ctx, bucket)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(200 * time.Millisecond)
	}
	if s.Kind == SeaweedFS {
		return st, nil // anonymous readers are a user of its configuration
	}
	if err := admin.AllowAnonymousRead(ctx, bucket); err != nil {
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

// grpcPairs finds n ports p, each free along with p+10000, which SeaweedFS
// takes for the gRPC side of the server on p.
func grpcPairs(n int) ([]int, error) {
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries == 200 {
			return nil, errors.New("no free pairs of ports p and p+10000 on 127.0.0.1")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		if p+10000 > 65535 {
			l.Close()
			continue
		}
		l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+10000))
		l.Close()
		if err != nil {
			continue
		}
		l2.Close()
		ports = append(ports, p)
	}
	return ports, nil
}
