package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/projectatomic/atomic-site/internal/testkit/faultproxy"
	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
)

// peers runs the mirror, s5cmd and rclone, each with its own defaults,
// against one endpoint.
type peers struct {
	mirror, s5cmd string
	srv           *s3server.Server
}

func findS5cmd() (string, error) {
	p := filepath.Join(s3server.ToolsDir(), "s5cmd")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if p, err := exec.LookPath("s5cmd"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("s5cmd not found in %s or PATH: run scripts/deps.sh --bench (make bench does)", s3server.ToolsDir())
}

// sync runs one tool's sync of dir to bucket/prefix through endpoint.
func (p peers) sync(tool, endpoint, dir, bucket string) (run, error) {
	switch tool {
	case "mirror":
		return timed(nil, p.mirror, "sync", dir, "s3://"+bucket+"/repo", "--endpoint", endpoint, "--progress", "none")
	case "s5cmd":
		return timed([]string{"AWS_REGION=us-east-1"}, p.s5cmd, "--endpoint-url", endpoint, "sync", dir+"/", "s3://"+bucket+"/repo/")
	case "rclone":
		return timed(rcloneEnv(endpoint), "rclone", "sync", dir, "bench:"+bucket+"/repo")
	}
	return run{}, fmt.Errorf("unknown tool %s", tool)
}

func rcloneEnv(endpoint string) []string {
	return []string{
		"RCLONE_CONFIG_BENCH_TYPE=s3", "RCLONE_CONFIG_BENCH_PROVIDER=Minio",
		"RCLONE_CONFIG_BENCH_ENDPOINT=" + endpoint,
		"RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=" + s3server.AccessKey,
		"RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=" + s3server.SecretKey,
		"AWS_CA_BUNDLE=",
	}
}

var toolNames = []string{"mirror", "s5cmd", "rclone"}

// network compares the three tools on a repository of n files through a
// proxy that holds every request delay: an initial sync, a no-op resync
// and an incremental sync of a commit with a tenth as many new files.
func (p peers) network(ctx context.Context, work string, n int, delay time.Duration) error {
	proxy, err := faultproxy.New(p.srv.Endpoint, 0, 1, 0)
	if err != nil {
		return err
	}
	defer proxy.Close()
	proxy.SetDelay(delay)
	ms := delay.Milliseconds()
	repo := filepath.Join(work, fmt.Sprintf("net-%d", ms))
	if err := makeRepo(repo, repo+"-tree", n, 11, 7000); err != nil {
		return err
	}
	objects, _ := count(repo)
	for _, t := range toolNames {
		if _, err := p.srv.NewBucket(ctx, fmt.Sprintf("%s-%d", t, ms), ""); err != nil {
			return err
		}
	}
	fmt.Printf("\n%d ms per request (a proxy holds each), %d-file repository, each tool with its defaults\n", ms, objects)
	step := func(name string) error {
		got := map[string]run{}
		for _, t := range toolNames {
			r, err := p.sync(t, proxy.URL, repo, fmt.Sprintf("%s-%d", t, ms))
			if err != nil {
				return err
			}
			got[t] = r
		}
		row(fmt.Sprintf("%s: mirror / s5cmd / rclone", name), fmt.Sprintf("%s / %s / %s", secs(got["mirror"].wall), secs(got["s5cmd"].wall), secs(got["rclone"].wall)), "", "")
		if delay > 0 {
			ratio(fmt.Sprintf("%s at %d ms: mirror / s5cmd", name, ms), got["mirror"].wall, got["s5cmd"].wall, 0.8)
		} else {
			ratio(fmt.Sprintf("%s at %d ms: mirror / s5cmd", name, ms), got["mirror"].wall, got["s5cmd"].wall, 1.0)
			ratio(fmt.Sprintf("%s at %d ms: mirror / rclone", name, ms), got["mirror"].wall, got["rclone"].wall, 0.75)
		}
		return nil
	}
	if err := step("initial"); err != nil {
		return err
	}
	if err := step("no-op"); err != nil {
		return err
	}
	if err := makeRepo(repo, repo+"-tree", n/10, 12, 7000); err != nil {
		return err
	}
	return step("incremental")
}
