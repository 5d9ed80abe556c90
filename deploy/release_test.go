package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/store"
	"github.com/projectatomic/atomic-site/internal/testkit/fixture"
	"github.com/projectatomic/atomic-site/internal/testkit/s3server"
)

const (
	testingRef = "fedora/28/x86_64/testing/atomic-host"
	stableRef  = "fedora/28/x86_64/atomic-host"
)

// The timeline of eight weeks: day 0 is 2018-06-04, a Monday; the
// release stream's epoch.
var epoch = time.Date(2018, 6, 4, 0, 0, 0, 0, time.UTC)

func dayAt(d, hour, minute int) time.Time {
	return epoch.AddDate(0, 0, d).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}

// candidate is the release id of day d's nightly compose.
func candidate(d int) string { return "28." + epoch.AddDate(0, 0, d).Format("20060102") + ".0" }

// The nights whose build failed its tests: two alone, and a stretch of
// sixteen from the night after the second release, longer than the
// release stream's cadence.
func failedNight(d int) bool { return d == 5 || d == 9 || d >= 15 && d <= 30 }

func tracker(d int) string {
	return fmt.Sprintf("https://bugzilla.redhat.com/show_bug.cgi?id=%d", 1590000+d)
}

// What the release engineer does by hand.
const (
	handFailed     = 14 // day 14's candidate passed, but must not ship: revoked at 05:00
	withdrawnOn    = 44 // the release of day 42 is withdrawn at 03:00
	securityFixDay = 50 // day 50's candidate is promoted at 12:00 with --force
)

// The model: what the site must offer, worked out from the timeline
// alone.
var (
	// releases maps the day of each promotion to the candidate's day:
	// day 0 (the first), day 14 (day 14's candidate failed by hand, so
	// day 13's), day 31 (the first to pass after release day 28, under
	// next-good), day 42 (a release day), day 44 (day 42's release was
	// withdrawn that morning: next-good promotes at once), day 50 (the
	// security fix, forced).
	releases = map[int]int{0: 0, 14: 13, 31: 31, 42: 42, 44: 44, 50: 50}
	// promoteNothing are the days promote is due but nothing passed
	// (exit 4): release day 28 falls in the failed stretch, and under
	// next-good every day after it is due until a candidate passes.
	promoteNothing = span(28, 30)
	// staleStable and staleTesting are the days each stream warns, at
	// the 06:00 run: stable's release of day 14 is older than 14 days
	// after 06:00 on day 28; testing's newest good build is day 13's,
	// older than its 3 days from day 16.
	staleStable  = span(29, 30)
	staleTesting = span(16, 30)
)

func span(from, to int) []int {
	var out []int
	for d := from; d <= to; d++ {
		out = append(out, d)
	}
	return out
}

// stableOn is the candidate day whose build stable offers after day d's
// daily run.
func stableOn(d int) int {
	cur := -1
	for day := 0; day <= d; day++ {
		if c, ok := releases[day]; ok {
			cur = c
		}
	}
	return cur
}

// testingOn is the candidate day whose build testing offers on day d:
// the newest that passed and was not failed by hand by then.
func testingOn(d int) int {
	for c := d; c >= 0; c-- {
		if !failedNight(c) && !(c == handFailed && d >= handFailed) {
			return c
		}
	}
	return -1
}

// The release, as shipped, run day after day for eight weeks on a
// simulated clock: the units under deploy/systemd with their Exec lines
// run as systemd would (deploy/units_test.go), against a real MinIO (the
// primary mirror and two regions), a real archive ostree repository with
// GPG-signed commits, and a real ostree client that verifies commit and
// summary signatures. Every night a compose is imported; every morning
// the daily release run promotes, publishes and builds. The timeline has
// failed nights, a stretch of sixteen, a candidate failed by hand, a
// withdrawn release followed by good candidates, and a security fix
// promoted with --force. Every day it asserts the exact current builds,
// the notices and where their links lead, each unit's outcome, every
// region's mirror verify --deep, the client's pull of stable, and
// sitegen check; on some days it runs the day again and finds nothing
// changed.
func TestEightWeeks(t *testing.T) {
	w := newWorld(t)
	for d := range 56 {
		if d == handFailed {
			w.compose(d)
			w.byHand(dayAt(d, 5, 0), "sitegen", "revoke", "--key", w.env["RELEASE_KEY"], "--keys", w.env["RELEASE_KEYS"],
				"--manifests", w.env["RELEASES"], "--stream", "testing", "--release", candidate(d), "--reason", tracker(d)+"-by-hand")
		} else {
			w.compose(d)
		}
		if d == withdrawnOn {
			w.byHand(dayAt(d, 3, 0), "sitegen", "revoke", "--key", w.env["RELEASE_KEY"], "--keys", w.env["RELEASE_KEYS"],
				"--manifests", w.env["RELEASES"], "--stream", "stable", "--release", candidate(42), "--reason", tracker(42)+"-withdrawn")
		}
		w.daily(d, dayAt(d, 6, 0))
		if d == securityFixDay {
			out := w.byHand(dayAt(d, 12, 0), "sitegen", "promote", "--from", "testing", "--to", "stable", "--force",
				"--key", w.env["RELEASE_KEY"], "--keys", w.env["RELEASE_KEYS"], "--manifests", w.env["RELEASES"],
				"--config", w.env["SITE_CONFIG"], "--ostree-repo", w.env["REPO"], "--ref", stableRef,
				"--gpg-sign", w.env["GPG_KEY"], "--gpg-homedir", w.env["GPG_HOMEDIR"])
			if !strings.Contains(out, "promoted testing/"+candidate(d)+" to stable") {
				t.Fatalf("day %d: the forced promotion: %s", d, out)
			}
			w.daily(d, dayAt(d, 12, 30)) // systemctl start atomic-release.service
		}
		w.check(d)
		if d%7 == 0 || slices.Contains([]int{handFailed, 29, 31, withdrawnOn, securityFixDay}, d) {
			w.rerun(d)
		}
	}
	w.announced()
}

// world is the release bot's host and what it publishes to.
type world struct {
	t      *testing.T
	root   string // the host's /, for the paths the units name
	bins   string // where sitegen and mirror are installed
	h      *host
	env    map[string]string // atomic.env, as installed on the host
	srv    *s3server.Server
	gpg    fixture.GPG
	client string // an ostree client's repository, pulling from a region
	mail   string // where sendmail puts what it is given
	// commits is the ostree commit of each day's candidate.
	commits map[int]string
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, root: t.TempDir(), commits: map[int]string{}}
	w.srv = s3server.Start(t)
	for _, b := range []string{"atomic", "atomic-eu", "atomic-us"} {
		w.srv.Bucket(t, b, "")
	}
	bin := binaries(t)
	w.bins = bin
	deployDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	w.mail = filepath.Join(w.root, "mail")
	// Where the units' paths live on this host: under root.
	rewrite := strings.NewReplacer(
		"/usr/local/bin/", bin+"/",
		"/usr/local/lib/atomic/", filepath.Join(deployDir, "bin")+"/",
		"/usr/sbin/sendmail", filepath.Join(w.root, "usr/sbin/sendmail"),
		"/etc/atomic", filepath.Join(w.root, "etc/atomic"),
		"/srv/atomic", filepath.Join(w.root, "srv/atomic"),
		"/var/lib/atomic", filepath.Join(w.root, "var/lib/atomic"),
	).Replace
	for _, d := range []string{"etc/atomic/release-keys", "etc/atomic/site-keys", "srv/atomic/releases/testing", "srv/atomic/composes",
		"srv/atomic/www", "var/lib/atomic", "usr/sbin", "mail"} {
		os.MkdirAll(filepath.Join(w.root, d), 0o755)
	}
	// sendmail hands messages to the MTA; here, to a directory.
	os.WriteFile(filepath.Join(w.root, "usr/sbin/sendmail"), []byte("#!/bin/sh\n# sendmail -t -oi\ncat > \"$(mktemp \""+w.mail+"/mail-XXXXXX\")\"\n"), 0o755)

	// atomic.env as shipped, its paths on this host, and what differs
	// here: the mirror's endpoint and the GPG key.
	w.gpg = fixture.GPGKey(t)
	shipped, err := readEnvFile(filepath.Join("systemd", "atomic.env"))
	if err != nil {
		t.Fatal(err)
	}
	w.env = map[string]string{}
	for k, v := range shipped {
		w.env[k] = rewrite(v)
	}
	w.env["S3_ENDPOINT"] = w.srv.Endpoint
	w.env["GPG_KEY"] = w.gpg.ID
	w.env["GPG_HOMEDIR"] = w.gpg.Home
	var envFile strings.Builder
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range w.env {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&envFile, "%s=%s\n", k, w.env[k])
	}
	os.WriteFile(filepath.Join(w.root, "etc/atomic/atomic.env"), []byte(envFile.String()), 0o644)

	// Keys, made as docs/operations.md says.
	w.run(bin+"/sitegen", "keygen", "--out", filepath.Join(w.root, "etc/atomic/release"))
	os.Rename(filepath.Join(w.root, "etc/atomic/release.pub"), filepath.Join(w.env["RELEASE_KEYS"], "release.pub"))
	w.run(bin+"/sitegen", "keygen", "--out", filepath.Join(w.root, "etc/atomic/site"))
	os.Rename(filepath.Join(w.root, "etc/atomic/site.pub"), filepath.Join(w.env["SITE_KEYS"], "site.pub"))

	// The site config and the mirrors: the primary and two regions.
	public := func(bucket string) string { return w.srv.Endpoint + "/" + bucket + "/pub/" }
	os.WriteFile(w.env["SITE_CONFIG"], []byte(fmt.Sprintf(`title = "Fedora Atomic Host"
base-url = "https://atomic.example.org/"
downloads-url = %q
ostree-remote = "fedora-atomic"
announce-from = "Atomic Host release bot <atomic-bot@example.org>"
announce-to = "atomic-announce@example.org"

[[streams]]
name = "stable"
title = "Fedora Atomic Host 28"
cadence = "14d"

[[streams]]
name = "testing"
title = "Fedora Atomic Host 28, testing"
cadence = "3d"

[promote]
epoch = %s

[[mirrors]]
name = "EU"
base-url = %q
country = "de"
priority = 2

[[mirrors]]
name = "US"
base-url = %q
country = "us"
priority = 2
`, public("atomic"), epoch.Format(time.RFC3339), public("atomic-eu"), public("atomic-us"))), 0o644)
	for _, tf := range []struct{ key, prefix string }{{"TARGETS_RELEASES", "pub"}, {"TARGETS_REPO", "repo"}} {
		var b strings.Builder
		for _, name := range []string{"atomic", "atomic-eu", "atomic-us"} {
			fmt.Fprintf(&b, "[[target]]\nname = %q\nendpoint = %q\nbucket = %q\nprefix = %q\n\n", name, w.srv.Endpoint, name, tf.prefix)
		}
		os.WriteFile(w.env[tf.key], []byte(b.String()), 0o644)
	}
	if got := w.env["PRIMARY"]; got != "s3://atomic/pub" {
		t.Fatalf("atomic.env: PRIMARY=%s, want the first target, s3://atomic/pub", got)
	}

	// The repository the compose commits to.
	fixture.Command(t, "ostree", "--repo="+w.env["REPO"], "init", "--mode=archive")

	// A client of the EU region, checking commit and summary signatures.
	w.client = filepath.Join(t.TempDir(), "client")
	fixture.Command(t, "ostree", "--repo="+w.client, "init", "--mode=archive")
	fixture.Command(t, "ostree", "--repo="+w.client, "remote", "add", "--set=gpg-verify=true", "--set=gpg-verify-summary=true",
		"--gpg-import="+w.gpg.Public, "fedora-atomic", w.srv.Endpoint+"/atomic-eu/repo")

	units := loadUnits(t, "systemd", rewrite)
	w.h = newHost(t, units, append(os.Environ(), "AWS_CA_BUNDLE=", "AWS_ACCESS_KEY_ID="+s3server.AccessKey,
		"AWS_SECRET_ACCESS_KEY="+s3server.SecretKey))
	return w
}

// run runs a command of the test's own, failing on a non-zero exit.
func (w *world) run(name string, args ...string) string {
	w.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "AWS_CA_BUNDLE=", "AWS_ACCESS_KEY_ID="+s3server.AccessKey, "AWS_SECRET_ACCESS_KEY="+s3server.SecretKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		w.t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// byHand runs what a release engineer types, at a given time.
func (w *world) byHand(at time.Time, args ...string) string {
	w.t.Helper()
	w.h.now = at
	if args[0] == "sitegen" && w.h.nowFlag[args[1]] {
		args = append(args, "--now", at.Format(time.RFC3339))
	}
	return w.run(w.bin(args[0]), args[1:]...)
}

// compose is the nightly build of day d at 02:00: its files and CHECKSUM
// in the release tree, its tree committed to the repository without
// moving a public ref, its test result, and then what the compose host
// does: systemctl start atomic-import@RELEASE.
func (w *world) compose(d int) {
	w.t.Helper()
	rel := candidate(d)
	dir := filepath.Join(w.env["RELEASES"], "testing", rel)
	os.MkdirAll(dir, 0o755)
	var sums strings.Builder
	r := rand.New(rand.NewPCG(uint64(d), 28))
	for _, ext := range []string{"qcow2", "raw.xz"} {
		name := "Fedora-AtomicHost-" + rel + ".x86_64." + ext
		data := make([]byte, 20_000+r.IntN(20_000))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
		sum := sha256.Sum256(data)
		fmt.Fprintf(&sums, "# %s: %d bytes\nSHA256 (%s) = %s\n", name, len(data), name, hex.EncodeToString(sum[:]))
	}
	os.WriteFile(filepath.Join(dir, "CHECKSUM"), []byte(sums.String()), 0o644)

	tree := filepath.Join(w.t.TempDir(), "tree")
	os.MkdirAll(filepath.Join(tree, "usr", "lib"), 0o755)
	os.WriteFile(filepath.Join(tree, "usr", "lib", "os-release"), []byte("VERSION_ID=28\nOSTREE_VERSION="+rel+"\n"), 0o644)
	w.commits[d] = fixture.Command(w.t, "ostree", append([]string{"--repo=" + w.env["REPO"], "commit", "--orphan",
		"--tree=dir=" + tree, "-s", rel, "--add-metadata-string=version=" + rel,
		"--bind-ref=" + testingRef, "--bind-ref=" + stableRef}, w.gpg.Sign()...)...)

	status, bug := "passed", ""
	if failedNight(d) {
		status, bug = "failed", tracker(d)
	}
	os.WriteFile(filepath.Join(w.root, "srv/atomic/composes", rel+".env"), []byte(fmt.Sprintf(
		"STATUS=%s\nFAILURE_TRACKER=%s\nTESTS=https://tests.example.org/%s\nOSTREE_COMMIT=%s\nOSTREE_REF=%s\n",
		status, bug, rel, w.commits[d], testingRef)), 0o644)
	w.h.now = dayAt(d, 2, 0)
	w.h.ran = nil
	if !w.h.start("atomic-import@" + rel + ".service") {
		w.t.Fatalf("day %d: the import of %s failed: %v", d, rel, w.h.ran)
	}
}

// daily is atomic-release.timer firing: the daily release run.
func (w *world) daily(d int, at time.Time) {
	w.t.Helper()
	w.h.now = at
	w.h.ran = nil
	w.h.exits = map[string][]int{}
	ok := w.h.start("atomic-release.service")
	want := []string{"atomic-promote.service ok", "atomic-sync-releases.service ok", "atomic-sync-repo.service ok",
		"atomic-site-build.service ok", "atomic-deploy.service ok", "atomic-announce.service ok", "atomic-release.service ok"}
	if !ok || !slices.Equal(w.h.ran, want) {
		w.t.Fatalf("day %d %s: the daily run: %v, want %v", d, at.Format("15:04"), w.h.ran, want)
	}
	promoteExit := w.h.exits["atomic-promote.service"][0]
	wantExit := 0
	if slices.Contains(promoteNothing, d) && at.Hour() == 6 {
		wantExit = 4
	}
	if promoteExit != wantExit {
		w.t.Errorf("day %d: promote exited %d, want %d", d, promoteExit, wantExit)
	}
	if mails, _ := filepath.Glob(filepath.Join(w.mail, "*")); len(mails) > 0 {
		for _, m := range mails {
			data, _ := os.ReadFile(m)
			if strings.Contains(string(data), " failed on ") {
				w.t.Errorf("day %d: a failure was reported:\n%s", d, data)
			}
		}
	}
}

// check asserts what the site, the mirrors and a client show after day d.
func (w *world) check(d int) {
	w.t.Helper()
	www := w.env["WWW"]
	wantStable, wantTesting := candidate(stableOn(d)), candidate(testingOn(d))
	for stream, want := range map[string]string{"stable": wantStable, "testing": wantTesting} {
		var meta struct {
			Architectures map[string]struct {
				Artifacts map[string]struct {
					Release string `json:"release"`
				} `json:"artifacts"`
			} `json:"architectures"`
		}
		data, err := os.ReadFile(filepath.Join(www, "streams", stream+".json"))
		if err != nil || json.Unmarshal(data, &meta) != nil {
			w.t.Fatalf("day %d: streams/%s.json: %v", d, stream, err)
		}
		if got := meta.Architectures["x86_64"].Artifacts["qemu"].Release; got != want {
			w.t.Errorf("day %d: %s offers %s, want %s", d, stream, got, want)
		}
	}

	// The notices, and where their links lead.
	stable := w.page(d, "streams/stable/index.html")
	testingPage := w.page(d, "streams/testing/index.html")
	stale := strings.Contains(stable, `class="notice notice-stale"`)
	if want := slices.Contains(staleStable, d); stale != want {
		w.t.Errorf("day %d: stable stale warning %v, want %v", d, stale, want)
	}
	if stale {
		for _, want := range []string{`No candidate of testing has passed its tests since <time datetime="` + epoch.AddDate(0, 0, 13).Format("2006-01-02") + `">`,
			`<a href="/streams/testing/` + candidate(d) + `/">` + candidate(d) + `</a>`, tracker(d)} {
			if !strings.Contains(stable, want) {
				w.t.Errorf("day %d: the stable stale warning lacks %q", d, want)
			}
		}
	}
	stale = strings.Contains(testingPage, `class="notice notice-stale"`)
	if want := slices.Contains(staleTesting, d); stale != want {
		w.t.Errorf("day %d: testing stale warning %v, want %v", d, stale, want)
	}
	if stale && (!strings.Contains(testingPage, `No build has passed its tests since <time datetime="`+epoch.AddDate(0, 0, 13).Format("2006-01-02")+`">`) ||
		!strings.Contains(testingPage, tracker(d))) {
		w.t.Errorf("day %d: the testing stale warning does not say since when, or does not link %s", d, tracker(d))
	}
	if d >= withdrawnOn {
		page := w.page(d, "streams/stable/"+candidate(42)+"/index.html")
		if !strings.Contains(page, "This build was withdrawn") || !strings.Contains(page, `<a href="/streams/stable/`+candidate(31)+`/">`) {
			w.t.Errorf("day %d: the withdrawn release's page does not say so, naming %s in its place", d, candidate(31))
		}
	}
	if d >= handFailed && !strings.Contains(w.page(d, "streams/testing/"+candidate(handFailed)+"/index.html"), "This build was withdrawn") {
		w.t.Errorf("day %d: the candidate failed by hand is not shown withdrawn", d)
	}
	cur := w.page(d, "streams/stable/"+wantStable+"/index.html")
	if want := `Promoted from</dt><dd>testing build <a href="/streams/testing/` + wantStable + `/">`; !strings.Contains(cur, want) {
		w.t.Errorf("day %d: the release's page does not say which candidate it came from", d)
	}

	// Every region holds a whole mirror, checked byte for byte.
	for _, bucket := range []string{"atomic", "atomic-eu", "atomic-us"} {
		w.run(w.bin("mirror"), "verify", "s3://"+bucket+"/pub", "--endpoint", w.srv.Endpoint, "--keys", w.env["RELEASE_KEYS"], "--deep")
		w.run(w.bin("mirror"), "verify", "s3://"+bucket+"/repo", "--endpoint", w.srv.Endpoint, "--keys", w.env["RELEASE_KEYS"],
			"--manifests", w.env["RELEASES"], "--deep")
	}
	// A client pulls the current release, both signatures checked.
	fixture.Command(w.t, "ostree", "--repo="+w.client, "pull", "fedora-atomic", stableRef)
	if got := fixture.Command(w.t, "ostree", "--repo="+w.client, "rev-parse", "fedora-atomic:"+stableRef); got != w.commits[stableOn(d)] {
		w.t.Errorf("day %d: the client pulled %s, want %s (%s)", d, got, w.commits[stableOn(d)], wantStable)
	}
	// A failed candidate never reaches a public ref.
	fixture.Command(w.t, "ostree", "--repo="+w.client, "pull", "fedora-atomic", testingRef)
	if got := fixture.Command(w.t, "ostree", "--repo="+w.client, "rev-parse", "fedora-atomic:"+testingRef); got != w.commits[testingOn(d)] {
		w.t.Errorf("day %d: the testing ref names %s, want %s (%s)", d, got, w.commits[testingOn(d)], wantTesting)
	}
	w.run(w.bin("sitegen"), "check", www, "--keys", w.env["SITE_KEYS"], "--now", w.h.now.Format(time.RFC3339))
}

func (w *world) bin(name string) string { return filepath.Join(w.bins, name) }

var hrefRE = regexp.MustCompile(`href="(/[^"#]*)`)

// page reads a page of the deployed site, and checks that every link it
// makes within the site leads to a file there.
func (w *world) page(d int, rel string) string {
	w.t.Helper()
	data, err := os.ReadFile(filepath.Join(w.env["WWW"], rel))
	if err != nil {
		w.t.Fatalf("day %d: %v", d, err)
	}
	for _, m := range hrefRE.FindAllStringSubmatch(string(data), -1) {
		p := filepath.Join(w.env["WWW"], filepath.FromSlash(m[1]))
		if strings.HasSuffix(m[1], "/") {
			p = filepath.Join(p, "index.html")
		}
		if _, err := os.Stat(p); err != nil {
			w.t.Errorf("day %d: %s links %s, which the site does not have", d, rel, m[1])
		}
	}
	return string(data)
}

// rerun runs day d's daily run again: nothing the units publish changes.
func (w *world) rerun(d int) {
	w.t.Helper()
	before := w.snapshot()
	w.daily(d, w.h.now)
	if after := w.snapshot(); after != before {
		w.t.Errorf("day %d: running the day again changed what is published:\n%s", d, diffLines(before, after))
	}
}

// snapshot is every file the units publish, with its sha256: the release
// tree, the repository, the web root and every bucket (the mirror's own
// trace and lease aside).
func (w *world) snapshot() string {
	w.t.Helper()
	var lines []string
	for _, dir := range []string{w.env["RELEASES"], w.env["REPO"], w.env["WWW"], filepath.Join(w.env["STATE"], "announced")} {
		filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			data, _ := os.ReadFile(p)
			sum := sha256.Sum256(data)
			lines = append(lines, p+" "+hex.EncodeToString(sum[:8]))
			return nil
		})
	}
	for _, bucket := range []string{"atomic", "atomic-eu", "atomic-us"} {
		st := w.srv.Bucket(w.t, bucket, "")
		st.List(context.Background(), nil, func(o store.Object) error {
			if !strings.Contains(o.Key, store.StateDir) {
				lines = append(lines, bucket+"/"+o.Key+" "+o.ETag)
			}
			return nil
		})
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for _, l := range bl {
		if !slices.Contains(al, l) {
			out = append(out, "+ "+l)
		}
	}
	for _, l := range al {
		if !slices.Contains(bl, l) {
			out = append(out, "- "+l)
		}
	}
	return strings.Join(out, "\n")
}

// announced checks that every release was announced once, and nothing
// else was.
func (w *world) announced() {
	w.t.Helper()
	mails, _ := filepath.Glob(filepath.Join(w.mail, "*"))
	var subjects []string
	for _, m := range mails {
		data, _ := os.ReadFile(m)
		if s := regexp.MustCompile(`(?m)^Subject: (.*)\r?$`).FindStringSubmatch(string(data)); s != nil {
			subjects = append(subjects, strings.TrimSpace(s[1]))
		}
	}
	sort.Strings(subjects)
	var want []string
	for _, c := range releases {
		want = append(want, "[Fedora Atomic Host 28] "+candidate(c)+" released")
	}
	sort.Strings(want)
	if !slices.Equal(subjects, want) {
		w.t.Errorf("announcements: %q\nwant one per release: %q", subjects, want)
	}
}

// A step that fails stops the steps after it and is heard: its OnFailure=
// unit mails the release team, and what the mirrors and the web root
// serve stays as it was.
func TestFailureIsHeard(t *testing.T) {
	w := newWorld(t)
	w.compose(0)
	w.daily(0, dayAt(0, 6, 0))
	before := w.snapshot()

	// A manifest changed after it was signed: every step that reads the
	// manifests refuses them.
	p := filepath.Join(w.env["RELEASES"], "testing", candidate(0)+".json")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, []byte(strings.Replace(string(data), `"status": "released"`, `"status": "released", "notes": "changed"`, 1)), 0o644)
	w.h.now, w.h.ran = dayAt(1, 6, 0), nil
	if w.h.start("atomic-release.service") {
		t.Fatal("the daily run succeeded with a tampered manifest")
	}
	want := []string{"atomic-failure@atomic-promote.service.service ok", "atomic-promote.service failed",
		"atomic-sync-releases.service dependency", "atomic-sync-repo.service dependency", "atomic-site-build.service dependency",
		"atomic-deploy.service dependency", "atomic-announce.service dependency", "atomic-release.service dependency"}
	if !slices.Equal(w.h.ran, want) {
		t.Errorf("ran %q\nwant %q", w.h.ran, want)
	}
	var reports []string
	mails, _ := filepath.Glob(filepath.Join(w.mail, "*"))
	for _, m := range mails {
		data, _ := os.ReadFile(m)
		if strings.Contains(string(data), "Subject: atomic-promote.service failed on ") && strings.Contains(string(data), "To: "+w.env["FAILURE_MAILTO"]) {
			reports = append(reports, m)
		}
	}
	if len(reports) != 1 {
		t.Errorf("%d failure reports to %s, want one", len(reports), w.env["FAILURE_MAILTO"])
	}
	os.WriteFile(p, data, 0o644)
	if after := w.snapshot(); after != before {
		t.Errorf("a failed run changed what is published:\n%s", diffLines(before, after))
	}
}
