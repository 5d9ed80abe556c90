// Command sitebench measures sitegen on a large generated history and
// prints each figure beside its target. It is run by `make bench`; it is a
// benchmark, never a test: a slow machine prints a missed target, it does
// not fail.
//
// Figures: a full `sitegen build` (a fresh process, signature checks
// included); Hugo alone rendering the same generated pages (a fresh
// process, the floor); `sitegen serve`, from a new manifest written to
// its page answering over HTTP (the median of ten), and its peak RSS after
// the ten; and the peak RSS of the full build. Then the same, once each, at
// 1,000, 3,000 and 10,000 builds (-sizes), with the heaviest page.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/projectatomic/atomic-site/internal/builder"
	"github.com/projectatomic/atomic-site/internal/history"
	"github.com/projectatomic/atomic-site/internal/render"
	"github.com/projectatomic/atomic-site/internal/testkit/synth"
	"github.com/projectatomic/atomic-site/internal/trust"
	"github.com/projectatomic/atomic-site/internal/view"
)

func main() {
	hugoOnly := flag.String("hugo-only", "", "internal: render the generated tree in DIR with Hugo alone")
	hugoOut := flag.String("hugo-out", "", "internal: where -hugo-only publishes")
	runs := flag.Int("runs", 5, "runs per figure; the median is printed")
	keep := flag.String("keep", "", "keep the generated history in this directory, for profiling")
	sizes := flag.String("sizes", "1000,3000,10000", "history sizes of the scale figures")
	profiles := flag.String("profile", "", "write CPU profiles of the last full build and of serve at each size into this directory")
	flag.Parse()
	if *hugoOnly != "" {
		if err := renderOnly(*hugoOnly, *hugoOut); err != nil {
			fmt.Fprintln(os.Stderr, "sitebench:", err)
			os.Exit(1)
		}
		return
	}
	var ns []int
	for _, f := range strings.Split(*sizes, ",") {
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil || n < 3 {
			fmt.Fprintf(os.Stderr, "sitebench: -sizes %q: want numbers of builds, such as 1000,3000\n", *sizes)
			os.Exit(2)
		}
		ns = append(ns, n)
	}
	if err := run(*runs, *keep, *profiles, ns); err != nil {
		fmt.Fprintln(os.Stderr, "sitebench:", err)
		os.Exit(1)
	}
}

var now = time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)

func run(runs int, keep, profiles string, sizes []int) error {
	root, err := filepath.Abs(".")
	if err != nil {
		return err
	}
	work := keep
	if work == "" {
		if work, err = os.MkdirTemp("", "sitebench-*"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	priv, pub, err := trust.GenerateKey()
	if err != nil {
		return err
	}
	keys := filepath.Join(work, "keys")
	os.MkdirAll(keys, 0o755)
	os.WriteFile(filepath.Join(keys, "bench.pub"), pub, 0o644)
	os.WriteFile(filepath.Join(work, "bench.key"), priv, 0o600)
	signer, err := trust.LoadSigner(filepath.Join(work, "bench.key"))
	if err != nil {
		return err
	}
	bin := filepath.Join(work, "sitegen")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/sitegen").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	b := bench{root: root, work: work, keys: keys, bin: bin, signer: signer}
	if profiles != "" {
		if b.profiles, err = filepath.Abs(profiles); err != nil {
			return err
		}
		if err := os.MkdirAll(b.profiles, 0o755); err != nil {
			return err
		}
	}

	// The figures of the 1,000-build history, the median of runs.
	m, err := b.measure(1000, runs)
	if err != nil {
		return err
	}
	fmt.Println()
	report("full sitegen build (verify 1,000 signed manifests + render)", secs(m.full), "<= 2.00 s", m.full <= 2*time.Second)
	report("Hugo alone, same generated pages", secs(m.hugo), "(the floor)", true)
	ratio := float64(m.full) / float64(m.hugo)
	report("full build / Hugo alone", fmt.Sprintf("%.2fx", ratio), "<= 1.30x", ratio <= 1.3)
	report("serve: a new manifest's page answering over HTTP", ms(m.rebuild), "<= 300 ms", m.rebuild <= 300*time.Millisecond)
	report("peak RSS of the full build", fmt.Sprintf("%d MB", m.rss/1024), "<= 500 MB", m.rss <= 500*1024)

	// Ten years of history: one run at each size (1,000 builds were
	// measured above).
	fmt.Println()
	first := m
	for _, n := range sizes {
		m := first
		if n != 1000 {
			if m, err = b.measure(n, 1); err != nil {
				return err
			}
		}
		ratio := float64(m.full) / float64(m.hugo)
		report(fmt.Sprintf("%d builds: full build / Hugo alone (%s / %s)", n, secs(m.full), secs(m.hugo)), fmt.Sprintf("%.2fx", ratio), "<= 1.15x", ratio <= 1.15)
		report(fmt.Sprintf("%d builds: peak RSS (%d KB per build)", n, m.rss/int64(n)), fmt.Sprintf("%d MB", m.rss/1024), "<= 800 MB", m.rss <= 800*1024)
		report(fmt.Sprintf("%d builds: serve, a new manifest's page answering", n), ms(m.rebuild), "<= 250 ms", m.rebuild <= 250*time.Millisecond)
		for _, l := range m.serveSays {
			fmt.Printf("    serve says: %s\n", l)
		}
		report(fmt.Sprintf("%d builds: serve, peak RSS after 10 new manifests", n), fmt.Sprintf("%d MB", m.serveRSS/1024), "<= 800 MB", m.serveRSS <= 800*1024)
		report(fmt.Sprintf("%d builds: heaviest page (%s)", n, m.heaviestPath), fmt.Sprintf("%d KB", m.heaviest/1024), "<= 150 KB", m.heaviest <= 150*1024)
	}
	return nil
}

// bench holds what every measurement shares.
type bench struct {
	root, work, keys, bin string
	signer                *trust.Signer
	profiles              string // where CPU profiles go, if anywhere
}

// profile is the --cpuprofile flag for what's profile, if profiles are
// wanted.
func (b bench) profile(what string, n int) []string {
	if b.profiles == "" {
		return nil
	}
	return []string{"--cpuprofile", filepath.Join(b.profiles, fmt.Sprintf("%s-%d.prof", what, n))}
}

type measured struct {
	full, hugo, rebuild time.Duration
	rss, serveRSS       int64    // KiB
	serveSays           []string // serve's own lines about the ten rebuilds
	heaviest            int64
	heaviestPath        string
}

// measure generates a history of n builds (3 streams, 3 architectures, 8
// artifacts each, dates ending at now) and measures it runs times.
func (b bench) measure(n, runs int) (measured, error) {
	var m measured
	dir, err := os.MkdirTemp(b.work, fmt.Sprintf("h%d-*", n))
	if err != nil {
		return m, err
	}
	manifests := filepath.Join(dir, "manifests")
	streams := []string{"stable", "testing", "next"}
	spec := synth.Spec{
		Streams: streams, Builds: n,
		Arches: []string{"x86_64", "aarch64", "ppc64le"},
		Start:  now.AddDate(0, 0, -(n/len(streams) + 5)), FailEvery: 17, RevokeEvery: 41,
	}
	if _, err := synth.History(manifests, b.signer, spec); err != nil {
		return m, err
	}
	fmt.Printf("history: %d builds x %d architectures x 8 artifacts over %d streams, signed (ECDSA P-256)\n",
		spec.Builds, len(spec.Arches), len(spec.Streams))
	self, err := os.Executable()
	if err != nil {
		return m, err
	}
	opts := builder.Options{ProjectDir: b.root, History: history.Options{
		Manifests: manifests, Keys: b.keys,
		Config: filepath.Join(b.root, "site", "sitegen.toml"), Now: now,
	}}
	// The generated tree Hugo alone renders: exactly what sitegen renders.
	gen, err := generated(opts, filepath.Join(dir, "generated"))
	if err != nil {
		return m, err
	}
	var full, hugo []time.Duration
	var last string
	for i := range runs {
		last = filepath.Join(dir, fmt.Sprintf("public-%d", i))
		d, kb, err := timed(exec.Command(b.bin, append([]string{"build", "--project", b.root, "--manifests", manifests, "--keys", b.keys,
			"--now", now.Format(time.RFC3339), "--out", last}, b.profile("build", n)...)...))
		if err != nil {
			return m, err
		}
		full, m.rss = append(full, d), max(m.rss, kb)
		d, _, err = timed(exec.Command(self, "-hugo-only", gen, "-hugo-out", filepath.Join(dir, fmt.Sprintf("hugo-%d", i))))
		if err != nil {
			return m, err
		}
		hugo = append(hugo, d)
		// Outputs are removed at the end, not between runs: deleting
		// tens of thousands of files keeps the disk busy for a while.
	}
	m.full, m.hugo = median(full), median(hugo)
	filepath.WalkDir(last, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".html") {
			if fi, err := d.Info(); err == nil && fi.Size() > m.heaviest {
				m.heaviest = fi.Size()
				m.heaviestPath, _ = filepath.Rel(last, p)
			}
		}
		return nil
	})
	m.rebuild, m.serveRSS, m.serveSays, err = b.serveFigures(manifests, b.profile("serve", n))
	return m, err
}

// generated writes the generated tree that sitegen renders to a directory,
// for Hugo alone to read and render.
func generated(opts builder.Options, dst string) (string, error) {
	files, langs, err := builder.Generated(context.Background(), opts)
	if err != nil {
		return "", err
	}
	for _, f := range files {
		p := filepath.Join(dst, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return "", err
		}
	}
	// Hugo alone renders in the site's languages, with their messages.
	data, err := json.Marshal(langs)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dst, ".languages"), data, 0o644); err != nil {
		return "", err
	}
	return dst, os.WriteFile(filepath.Join(dst, ".project"), []byte(opts.ProjectDir), 0o644)
}

// renderOnly is Hugo alone: read the generated tree, load the config and
// render.
func renderOnly(gen, pub string) error {
	project, err := os.ReadFile(filepath.Join(gen, ".project"))
	if err != nil {
		return err
	}
	var langs []render.Language
	data, err := os.ReadFile(filepath.Join(gen, ".languages"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &langs); err != nil {
		return err
	}
	var files []view.File
	err = filepath.WalkDir(gen, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == ".project" || d.Name() == ".languages" {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(gen, p)
		files = append(files, view.File{Path: filepath.ToSlash(rel), Data: data})
		return err
	})
	if err != nil {
		return err
	}
	site, err := render.New(render.Options{
		ProjectDir: string(project), PublishDir: pub, Languages: langs,
		CacheDir: filepath.Join(os.TempDir(), "sitebench-hugo-cache"),
	})
	if err != nil {
		return err
	}
	return site.Build(context.Background(), files, nil)
}

// serveFigures runs `sitegen serve` on the history, writes ten new
// manifests one by one, and times each from its writing to its page
// answering over HTTP; it returns the median, the server's peak RSS after
// the ten (KiB), and what serve printed about its rebuilds.
func (b bench) serveFigures(manifests string, flags []string) (time.Duration, int64, []string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(b.bin, append([]string{"serve", "--project", b.root, "--manifests", manifests, "--keys", b.keys,
		"--now", now.Format(time.RFC3339), "--addr", addr}, flags...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, nil, err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	lines := bufio.NewScanner(stdout)
	// The first line says it serves: the first build is done.
	if !lines.Scan() {
		return 0, 0, nil, fmt.Errorf("serve: %v\n%s", lines.Err(), stderr.String())
	}
	said := make(chan string, 100)
	go func() {
		for lines.Scan() {
			said <- lines.Text()
		}
		close(said)
	}()
	var took []time.Duration
	var says []string
	for i := range 10 {
		// Newer than the whole history, and not after now: a build dated
		// later than now is refused.
		day := now.Add(-time.Duration(10-i) * time.Hour)
		nb := synth.Build("stable", fmt.Sprintf("28.%s.%d", day.Format("20060102"), 90+i), day, "x86_64", "aarch64", "ppc64le")
		start := time.Now()
		if err := synth.WriteBuild(manifests, b.signer, nb); err != nil {
			return 0, 0, nil, err
		}
		url := "http://" + addr + "/streams/stable/" + nb.Release + "/"
		for {
			resp, err := http.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Since(start) > 2*time.Minute {
				return 0, 0, nil, fmt.Errorf("serve did not show %s in 2 minutes\n%s", nb.Release, stderr.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
		took = append(took, time.Since(start))
		// serve prints its line once the rebuild is done, about when
		// the page answers: take what it said, up to its line about
		// this one.
		timeout := time.After(10 * time.Second)
		for waiting := true; waiting; {
			select {
			case l, ok := <-said:
				if ok {
					says = append(says, l)
				}
				waiting = ok && !strings.Contains(l, nb.Release)
			case <-timeout:
				waiting = false
			}
		}
	}
	return median(took), peakRSS(cmd.Process.Pid), says, nil
}

// peakRSS is a running process's peak resident set (VmHWM), in KiB; 0
// where /proc does not say.
func peakRSS(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb)
			return kb
		}
	}
	return 0
}

// timed runs cmd and returns its wall time and peak RSS in KiB.
func timed(cmd *exec.Cmd) (time.Duration, int64, error) {
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("%s: %v\n%s", cmd.Path, err, stderr.String())
	}
	d := time.Since(start)
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var kb int64
	if ru != nil {
		kb = ru.Maxrss
	}
	return d, kb, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
func ms(d time.Duration) string   { return fmt.Sprintf("%d ms", d.Milliseconds()) }

func report(what, got, target string, ok bool) {
	verdict := "met"
	if !ok {
		verdict = "MISSED"
	}
	fmt.Printf("%-62s %10s   target %-10s %s\n", what, got, target, verdict)
}
