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
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/projectatomic/atomic-site/internal/parallel"
	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/store/s3"
	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
)

func main() {
	files := flag.Int("files", 19500, "files in the generated tree (about 20,000 objects with dirtrees)")
	netFiles := flag.Int("net-files", 3000, "files in the repository of the network figures")
	bigFiles := flag.Int("rss-objects", 100000, "objects in the repository for the memory figure")
	planKeys := flag.Int("plan-keys", 1000000, "destination keys for the planning figure")
	image := flag.Int64("image-size", 2<<30, "bytes of the image for the throughput figure")
	jobs := flag.Int("jobs", 16, "parallel transfers of rclone and of the bare loop in the loopback figures")
	ceilingOnly := flag.String("ceiling-only", "", "ENDPOINT,BUCKET,DIR: only time the bare loop (for experiments)")
	planChild := flag.String("plan-child", "", "FILES,KEYS: only plan (the child process of the planning figure)")
	sections := flag.String("sections", "loopback,network,scale,downstream,regioncopy", "which figures to measure")
	flag.Parse()
	switch {
	case *ceilingOnly != "":
		parts := strings.SplitN(*ceilingOnly, ",", 3)
		d, err := bareLoop(context.Background(), parts[0], parts[1], parts[2], *jobs)
		fmt.Println("bare loop:", secs(d), err)
		return
	case *planChild != "":
		var f, k int
		fmt.Sscanf(*planChild, "%d,%d", &f, &k)
		if err := planOnly(f, k); err != nil {
			fmt.Fprintln(os.Stderr, "mirrorbench:", err)
			os.Exit(1)
		}
		return
	}
	if err := benchAll(strings.Split(*sections, ","), *files, *netFiles, *bigFiles, *planKeys, *image, *jobs); err != nil {
		fmt.Fprintln(os.Stderr, "mirrorbench:", err)
		os.Exit(1)
	}
}

const ref = "fedora/28/x86_64/atomic-host"

func benchAll(sections []string, nfiles, netFiles, rssObjects, planKeys int, imageSize int64, jobs int) error {
	os.Setenv("AWS_CA_BUNDLE", "") // breaks rclone over plain http
	for _, tool := range []string{"ostree", "rclone"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: run scripts/deps.sh", tool)
		}
	}
	s5, err := findS5cmd()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "mirrorbench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	srv, err := s3server.StartServer(filepath.Join(work, "minio"))
	if err != nil {
		return err
	}
	defer srv.Stop()
	os.Setenv("AWS_ACCESS_KEY_ID", s3server.AccessKey)
	os.Setenv("AWS_SECRET_ACCESS_KEY", s3server.SecretKey)

	mirrorBin := filepath.Join(work, "mirror")
	if out, err := exec.Command("go", "build", "-o", mirrorBin, "./cmd/mirror").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	p := peers{mirror: mirrorBin, s5cmd: s5, srv: srv}
	ctx := context.Background()
	if slices.Contains(sections, "loopback") {
		if err := loopback(ctx, p, work, nfiles, jobs); err != nil {
			return err
		}
	}
	if slices.Contains(sections, "network") {
		for _, delay := range []time.Duration{0, 40 * time.Millisecond} {
			if err := p.network(ctx, work, netFiles, delay); err != nil {
				return err
			}
		}
	}
	if slices.Contains(sections, "scale") {
		if err := scale(ctx, p, work, rssObjects, planKeys, imageSize); err != nil {
			return err
		}
	}
	if slices.Contains(sections, "regioncopy") {
		if err := p.regionCopy(ctx, work, 4, 256<<20); err != nil {
			return err
		}
	}
	if slices.Contains(sections, "downstream") {
		if err := p.downstream(ctx, work, netFiles, 40*time.Millisecond, ""); err != nil {
			return err
		}
		// The scale section's repository, when it made one.
		big := filepath.Join(work, "big")
		if _, err := os.Stat(big); err != nil {
			big = ""
		}
		if err := p.downstream(ctx, work, rssObjects, 40*time.Millisecond, big); err != nil {
			return err
		}
	}
	return nil
}

// loopback is the large repository on loopback: the mirror with its
// defaults, rclone with jobs transfers and checkers, s5cmd with its
// defaults, and the server's ceiling (a bare loop of the same PUTs).
func loopback(ctx context.Context, p peers, work string, nfiles, jobs int) error {
	srv := p.srv
	repo := filepath.Join(work, "repo")
	start := time.Now()
	if err := makeRepo(repo, filepath.Join(work, "tree"), nfiles, 1, 7000); err != nil {
		return err
	}
	objects, bytes := count(repo)
	fmt.Printf("loopback: repository of %d files, %.0f MB (ostree commit, made in %s); rclone and the bare loop with %d transfers\n",
		objects, float64(bytes)/1e6, time.Since(start).Round(time.Second), jobs)
	for _, b := range []string{"mirror", "rclone", "ceiling", "s5cmd"} {
		if _, err := srv.NewBucket(ctx, b, ""); err != nil {
			return err
		}
	}
	mirrorSync := func() (run, error) { return p.sync("mirror", srv.Endpoint, repo, "mirror") }
	s5Sync := func() (run, error) { return p.sync("s5cmd", srv.Endpoint, repo, "s5cmd") }
	rclone := func(extra ...string) (run, error) {
		args := append([]string{"sync", repo, "bench:rclone/repo", "--transfers", fmt.Sprint(jobs), "--checkers", fmt.Sprint(jobs)}, extra...)
		return timed(rcloneEnv(srv.Endpoint), "rclone", args...)
	}
	var m, r, s [3]run
	var err error
	if m[0], err = mirrorSync(); err != nil {
		return err
	}
	if r[0], err = rclone(); err != nil {
		return err
	}
	if s[0], err = s5Sync(); err != nil {
		return err
	}
	ceiling, err := bareLoop(ctx, srv.Endpoint, "ceiling", repo, jobs)
	if err != nil {
		return err
	}
	if m[1], err = mirrorSync(); err != nil {
		return err
	}
	if r[1], err = rclone("--size-only", "--fast-list"); err != nil {
		return err
	}
	if s[1], err = s5Sync(); err != nil {
		return err
	}
	if err := makeRepo(repo, filepath.Join(work, "tree"), nfiles/10, 2, 7000); err != nil {
		return err
	}
	if m[2], err = mirrorSync(); err != nil {
		return err
	}
	if r[2], err = rclone(); err != nil {
		return err
	}
	if s[2], err = s5Sync(); err != nil {
		return err
	}
	fmt.Println()
	for i, name := range []string{"initial", "no-op", "one more commit"} {
		row(name+": mirror / s5cmd / rclone", fmt.Sprintf("%s / %s / %s", secs(m[i].wall), secs(s[i].wall), secs(r[i].wall)), "", "")
		ratio(name+": mirror / rclone", m[i].wall, r[i].wall, 0.75)
		ratio(name+": mirror / s5cmd", m[i].wall, s[i].wall, 1.0)
	}
	row("initial: bare minio-go loop (the server's ceiling)", secs(ceiling), "", "")
	ratio("initial: mirror / ceiling", m[0].wall, ceiling, 1.15)
	return nil
}

// scale gives the memory and throughput figures: syncing rssObjects
// objects, planning against planKeys listed keys, and one large image.
func scale(ctx context.Context, p peers, work string, rssObjects, planKeys int, imageSize int64) error {
	srv := p.srv
	fmt.Println()
	big := filepath.Join(work, "big")
	if err := makeRepo(big, filepath.Join(work, "bigtree"), rssObjects, 3, 64); err != nil {
		return err
	}
	bigObjects, _ := count(big)
	if _, err := srv.NewBucket(ctx, "big", ""); err != nil {
		return err
	}
	first, err := p.sync("mirror", srv.Endpoint, big, "big")
	if err != nil {
		return err
	}
	again, err := p.sync("mirror", srv.Endpoint, big, "big")
	if err != nil {
		return err
	}
	row(fmt.Sprintf("peak RSS, %d objects, initial sync", bigObjects), fmt.Sprintf("%d MB", first.rss/1024), "<= 150 MB", verdict(first.rss <= 150*1024))
	row(fmt.Sprintf("peak RSS, %d objects, no-op resync", bigObjects), fmt.Sprintf("%d MB", again.rss/1024), "<= 150 MB", verdict(again.rss <= 150*1024))

	self, err := os.Executable()
	if err != nil {
		return err
	}
	planned, err := timed(nil, self, "-plan-child", fmt.Sprintf("%d,%d", 100000, planKeys))
	if err != nil {
		return err
	}
	row(fmt.Sprintf("plan against %d listed keys (--delete): time", planKeys), secs(planned.wall), "", "")
	row(fmt.Sprintf("plan against %d listed keys (--delete): peak RSS", planKeys), fmt.Sprintf("%d MB", planned.rss/1024), "<= 1024 MB", verdict(planned.rss <= 1<<20))

	dir := filepath.Join(work, "image")
	if err := bigFile(filepath.Join(dir, "fedora-atomic.raw"), imageSize); err != nil {
		return err
	}
	gib := float64(imageSize) / (1 << 30)
	got := map[string]run{}
	for _, t := range toolNames {
		if _, err := srv.NewBucket(ctx, "image-"+t, ""); err != nil {
			return err
		}
		r, err := p.sync(t, srv.Endpoint, dir, "image-"+t)
		if err != nil {
			return err
		}
		got[t] = r
		row(fmt.Sprintf("%.0f GiB image, loopback: %s", gib, t), fmt.Sprintf("%.0f MB/s", float64(imageSize)/1e6/r.wall.Seconds()),
			"", fmt.Sprintf("%.1f CPU s/GiB", r.cpu.Seconds()/gib))
	}
	ratio("image: mirror / s5cmd", got["mirror"].wall, got["s5cmd"].wall, 1.0)
	ratio("image: mirror / rclone", got["mirror"].wall, got["rclone"].wall, 0.75)
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
// listing, no phases, no retries. Through the mirror's own S3 store, so
// the requests are the mirror's.
func bareLoop(ctx context.Context, endpoint, bucket, dir string, jobs int) (time.Duration, error) {
	st, err := s3.New("s3://"+bucket+"/repo", s3.Options{Endpoint: endpoint, MaxConns: jobs * 2})
	if err != nil {
		return 0, err
	}
	var files []store.Upload
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				rel, _ := filepath.Rel(dir, p)
				files = append(files, store.Upload{Key: filepath.ToSlash(rel), Path: p, Size: fi.Size(), ContentType: "application/octet-stream"})
			}
		}
		return nil
	})
	start := time.Now()
	err = parallel.Do(ctx, jobs, len(files), func(i int) error { return st.Put(ctx, files[i]) })
	return time.Since(start), err
}

// run is what a command cost: wall time, CPU time and peak RSS in KiB.
type run struct {
	wall, cpu time.Duration
	rss       int64
	out       string
}

// timed runs a command and returns what it cost.
func timed(env []string, name string, args ...string) (run, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return run{}, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	r := run{wall: time.Since(start), out: stdout.String()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rss = ru.Maxrss
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return r, nil
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
