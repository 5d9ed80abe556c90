// Command mirrorbench measures mirror against rclone sync and against the
// server's ceiling (a bare minio-go loop of the same PUTs), side by side in
// one run, on the same real MinIO and the same generated ostree repository,
// and prints each ratio beside its target. Run by `make bench`: a missed
// target is printed, never a failure.
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/projectatomic/atomic-site/internal/testkit/miniotest"
)

func main() {
	files := flag.Int("files", 19500, "files in the generated tree (about 20,000 objects with dirtrees)")
	bigFiles := flag.Int("rss-objects", 100000, "objects in the repository for the memory figure")
	jobs := flag.Int("jobs", 16, "parallel transfers, for every tool")
	ceilingOnly := flag.String("ceiling-only", "", "ENDPOINT,BUCKET,DIR: only time the bare loop (for experiments)")
	flag.Parse()
	if *ceilingOnly != "" {
		parts := strings.SplitN(*ceilingOnly, ",", 3)
		d, err := bareLoop(context.Background(), parts[0], parts[1], parts[2], *jobs)
		fmt.Println("bare loop:", secs(d), err)
		return
	}
	if err := run(*files, *bigFiles, *jobs); err != nil {
		fmt.Fprintln(os.Stderr, "mirrorbench:", err)
		os.Exit(1)
	}
}

const ref = "fedora/28/x86_64/atomic-host"

func run(nfiles, rssObjects, jobs int) error {
	os.Setenv("AWS_CA_BUNDLE", "") // breaks rclone over plain http
	for _, tool := range []string{"ostree", "rclone"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: run scripts/deps.sh", tool)
		}
	}
	work, err := os.MkdirTemp("", "mirrorbench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	srv, err := miniotest.StartServer(filepath.Join(work, "minio"))
	if err != nil {
		return err
	}
	defer srv.Stop()
	os.Setenv("AWS_ACCESS_KEY_ID", miniotest.AccessKey)
	os.Setenv("AWS_SECRET_ACCESS_KEY", miniotest.SecretKey)

	mirrorBin := filepath.Join(work, "mirror")
	if out, err := exec.Command("go", "build", "-o", mirrorBin, "./cmd/mirror").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}

	repo := filepath.Join(work, "repo")
	start := time.Now()
	if err := makeRepo(repo, filepath.Join(work, "tree"), nfiles, 1, 7000); err != nil {
		return err
	}
	objects, bytes := count(repo)
	fmt.Printf("repository: %d files, %.0f MB (ostree commit, made in %s); %d parallel transfers\n",
		objects, float64(bytes)/1e6, time.Since(start).Round(time.Second), jobs)

	ctx := context.Background()
	for _, b := range []string{"mirror", "rclone", "ceiling"} {
		if _, err := srv.NewBucket(ctx, b, ""); err != nil {
			return err
		}
	}
	rcloneEnv := []string{
		"RCLONE_CONFIG_BENCH_TYPE=s3", "RCLONE_CONFIG_BENCH_PROVIDER=Minio",
		"RCLONE_CONFIG_BENCH_ENDPOINT=" + srv.Endpoint,
		"RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=" + miniotest.AccessKey,
		"RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=" + miniotest.SecretKey,
		"AWS_CA_BUNDLE=",
	}
	mirrorSync := func() (time.Duration, int64, error) {
		return timed(nil, mirrorBin, "sync", repo, "s3://mirror/repo", "--endpoint", srv.Endpoint,
			"--jobs", fmt.Sprint(jobs), "--progress", "none")
	}
	rclone := func(extra ...string) (time.Duration, int64, error) {
		args := append([]string{"sync", repo, "bench:rclone/repo", "--transfers", fmt.Sprint(jobs), "--checkers", fmt.Sprint(jobs)}, extra...)
		return timed(rcloneEnv, "rclone", args...)
	}

	// 1. Initial sync, and the server's ceiling for the same PUTs.
	mInit, _, err := mirrorSync()
	if err != nil {
		return err
	}
	rInit, _, err := rclone()
	if err != nil {
		return err
	}
	ceiling, err := bareLoop(ctx, srv.Endpoint, "ceiling", repo, jobs)
	if err != nil {
		return err
	}

	// 2. No-op re-sync; rclone at its best.
	mNoop, _, err := mirrorSync()
	if err != nil {
		return err
	}
	rNoop, _, err := rclone("--size-only", "--fast-list")
	if err != nil {
		return err
	}
	rNoopDefault, _, err := rclone()
	if err != nil {
		return err
	}

	// 3. After one more commit.
	if err := makeRepo(repo, filepath.Join(work, "tree"), nfiles/10, 2, 7000); err != nil {
		return err
	}
	mNext, _, err := mirrorSync()
	if err != nil {
		return err
	}
	rNext, _, err := rclone()
	if err != nil {
		return err
	}

	// 4. Memory with many objects: a repository of rssObjects small
	// files, synced to an empty bucket, then again (no-op).
	big := filepath.Join(work, "big")
	if err := makeRepo(big, filepath.Join(work, "bigtree"), rssObjects, 3, 64); err != nil {
		return err
	}
	bigObjects, _ := count(big)
	if _, err := srv.NewBucket(ctx, "big", ""); err != nil {
		return err
	}
	_, rssInit, err := timed(nil, mirrorBin, "sync", big, "s3://big/repo", "--endpoint", srv.Endpoint, "--jobs", fmt.Sprint(jobs), "--progress", "none")
	if err != nil {
		return err
	}
	_, rssNoop, err := timed(nil, mirrorBin, "sync", big, "s3://big/repo", "--endpoint", srv.Endpoint, "--jobs", fmt.Sprint(jobs), "--progress", "none")
	if err != nil {
		return err
	}

	fmt.Println()
	row("initial: mirror", secs(mInit), "", "")
	row("initial: rclone sync", secs(rInit), "", "")
	row("initial: bare minio-go loop (the server's ceiling)", secs(ceiling), "", "")
	ratio("initial: mirror / rclone", mInit, rInit, 0.8)
	ratio("initial: mirror / ceiling", mInit, ceiling, 1.15)
	row("no-op: mirror", secs(mNoop), "", "")
	row("no-op: rclone --size-only --fast-list", secs(rNoop), "", "")
	row("no-op: rclone (defaults, for reference)", secs(rNoopDefault), "", "")
	ratio("no-op: mirror / rclone at its best", mNoop, rNoop, 1.0)
	row("one more commit: mirror", secs(mNext), "", "")
	row("one more commit: rclone sync", secs(rNext), "", "")
	ratio("one more commit: mirror / rclone", mNext, rNext, 1.0)
	peak := max(rssInit, rssNoop)
	row(fmt.Sprintf("peak RSS, %d objects (initial and no-op sync)", bigObjects), fmt.Sprintf("%d MB", peak/1024), "<= 150 MB", verdict(peak <= 150*1024))
	return nil
}

// makeRepo commits n files of about size bytes each (random, so they do not
// compress away) to an archive repository, and updates its summary.
func makeRepo(repo, tree string, n int, seed uint64, size int) error {
	if _, err := os.Stat(filepath.Join(repo, "config")); err != nil {
		if out, err := exec.Command("ostree", "--repo="+repo, "init", "--mode=archive").CombinedOutput(); err != nil {
			return fmt.Errorf("ostree init: %v: %s", err, out)
		}
	}
	r := rand.New(rand.NewPCG(seed, seed))
	buf := make([]byte, 2*size)
	for i := range n {
		p := filepath.Join(tree, fmt.Sprintf("usr/share/d%03d/f%06d", i%500, i))
		if i%500 == 0 || i < 500 {
			os.MkdirAll(filepath.Dir(p), 0o755)
		}
		data := buf[:size/2+r.IntN(size)]
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	if out, err := exec.Command("ostree", "--repo="+repo, "commit", "-b", ref, "--tree=dir="+tree, "-s", "bench").CombinedOutput(); err != nil {
		return fmt.Errorf("ostree commit: %v: %s", err, out)
	}
	if out, err := exec.Command("ostree", "--repo="+repo, "summary", "-u").CombinedOutput(); err != nil {
		return fmt.Errorf("ostree summary: %v: %s", err, out)
	}
	return nil
}

func count(dir string) (n int, bytes int64) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n++
				bytes += fi.Size()
			}
		}
		return nil
	})
	return n, bytes
}

// bareLoop PUTs every file of dir with jobs workers and nothing else: no
// listing, no phases. The same request options as the mirror's S3 store.
func bareLoop(ctx context.Context, endpoint, bucket, dir string, jobs int) (time.Duration, error) {
	client, err := minio.New(strings.TrimPrefix(endpoint, "http://"), &minio.Options{
		Creds:           credentials.NewStaticV4(miniotest.AccessKey, miniotest.SecretKey, ""),
		TrailingHeaders: true,
	})
	if err != nil {
		return 0, err
	}
	var paths []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return nil
	})
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	for range jobs {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(paths) {
					return
				}
				f, err := os.Open(paths[i])
				if err == nil {
					var fi os.FileInfo
					if fi, err = f.Stat(); err == nil {
						rel, _ := filepath.Rel(dir, paths[i])
						_, err = client.PutObject(ctx, bucket, "repo/"+filepath.ToSlash(rel), f, fi.Size(),
							minio.PutObjectOptions{DisableContentSha256: true, ContentType: "application/octet-stream"})
					}
					f.Close()
				}
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), firstErr
}

// timed runs a command and returns its wall time and peak RSS in KiB.
func timed(env []string, name string, args ...string) (time.Duration, int64, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	d := time.Since(start)
	var kb int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		kb = ru.Maxrss
	}
	return d, kb, nil
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func row(what, got, target, verdict string) {
	if target != "" {
		target = "target " + target
	}
	fmt.Printf("%-58s %10s   %-18s %s\n", what, got, target, verdict)
}

func ratio(what string, a, b time.Duration, target float64) {
	r := a.Seconds() / b.Seconds()
	row(what, fmt.Sprintf("%.2fx", r), fmt.Sprintf("<= %.2fx", target), verdict(r <= target))
}
