package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/projectatomic/atomic-site/internal/testkit/faultproxy"
)

// downstream measures a mirror of a mirror: an upstream repository of n
// files served over HTTP through a proxy that holds every request delay,
// pulled into MinIO by mirror sync, beside ostree pull --mirror into a
// local repository, and beside that pull followed by mirror sync of it
// (what a downstream admin does without the remote source).
func (p peers) downstream(ctx context.Context, work string, n int, delay time.Duration, repo string) error {
	if repo == "" {
		repo = filepath.Join(work, fmt.Sprintf("down-upstream-%d", n))
		if err := makeRepo(repo, filepath.Join(work, fmt.Sprintf("down-tree-%d", n)), n, 11, 2048); err != nil {
			return err
		}
	}
	objects, _ := count(filepath.Join(repo, "objects"))
	web := httptest.NewServer(http.FileServer(http.Dir(repo)))
	defer web.Close()
	proxy, err := faultproxy.New(web.URL, 0, 1, 0)
	if err != nil {
		return err
	}
	defer proxy.Close()
	proxy.SetDelay(delay)
	ms := delay.Milliseconds()
	fmt.Printf("\ndownstream: %d objects over HTTP, %d ms per request (a proxy holds each), into MinIO on loopback\n", objects, ms)

	bucket := fmt.Sprintf("down-%d-%d", n, ms)
	if _, err := p.srv.NewBucket(ctx, bucket, ""); err != nil {
		return err
	}
	mine, err := timed(nil, p.mirror, "sync", proxy.URL+"/", "s3://"+bucket+"/repo", "--endpoint", p.srv.Endpoint, "--progress", "none")
	if err != nil {
		return err
	}
	local := filepath.Join(work, fmt.Sprintf("down-pull-%d-%d", n, ms))
	for _, args := range [][]string{{"init", "--mode=archive"}, {"remote", "add", "--no-gpg-verify", "upstream", proxy.URL + "/"}} {
		if out, err := exec.Command("ostree", append([]string{"--repo=" + local}, args...)...).CombinedOutput(); err != nil {
			return fmt.Errorf("ostree %v: %v: %s", args, err, out)
		}
	}
	pulled, err := timed(nil, "ostree", "--repo="+local, "pull", "--mirror", "upstream", ref)
	if err != nil {
		return err
	}
	if _, err := p.srv.NewBucket(ctx, bucket+"-two", ""); err != nil {
		return err
	}
	then, err := timed(nil, p.mirror, "sync", local, "s3://"+bucket+"-two/repo", "--endpoint", p.srv.Endpoint, "--progress", "none")
	if err != nil {
		return err
	}
	again, err := timed(nil, p.mirror, "sync", proxy.URL+"/", "s3://"+bucket+"/repo", "--endpoint", p.srv.Endpoint, "--progress", "none")
	if err != nil {
		return err
	}
	os.RemoveAll(local)
	row("mirror sync URL s3:// (first)", secs(mine.wall), "", fmt.Sprintf("%d MB peak RSS", mine.rss/1024))
	row("mirror sync URL s3:// (nothing new)", secs(again.wall), "", fmt.Sprintf("%d MB peak RSS", again.rss/1024))
	row("ostree pull --mirror into a local repository", secs(pulled.wall), "", fmt.Sprintf("%d MB peak RSS", pulled.rss/1024))
	row("  then mirror sync of it to s3://", secs(then.wall), "", "")
	ratio("downstream: mirror / ostree pull --mirror", mine.wall, pulled.wall, 0.3)
	ratio("downstream: mirror / (pull --mirror + mirror sync)", mine.wall, pulled.wall+then.wall, 0.5)
	peak := max(mine.rss, again.rss)
	row(fmt.Sprintf("downstream peak RSS, %d objects", objects), fmt.Sprintf("%d MB", peak/1024), "<= 200 MB", verdict(peak <= 200*1024))
	return nil
}
