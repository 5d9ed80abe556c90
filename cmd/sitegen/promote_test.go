package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/promote"
	"github.com/projectatomic/atomic-site/internal/testkit/synth"
	"github.com/projectatomic/atomic-site/internal/trust"
)

const (
	testKey  = "../../testdata/test-signing.key"
	testKeys = "../../testdata/keys"
)

// sitegen runs the command in process.
func sitegen(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

// timeline is eight weeks of nightly candidates, from a Monday.
var t0 = time.Date(2018, 6, 4, 0, 0, 0, 0, time.UTC)

func at(d int, hour int) time.Time {
	return t0.Add(time.Duration(d)*24*time.Hour + time.Duration(hour)*time.Hour)
}

func candidateRelease(d int) string { return fmt.Sprintf("28.%s.0", at(d, 0).Format("20060102")) }

func tracker(d int) string {
	return fmt.Sprintf("https://bugzilla.redhat.com/show_bug.cgi?id=%d", 1500000+d)
}

// failedNight says which nightly candidates fail their tests: two weeks
// and a half of them, so that the release day of week six has nothing.
func failedNight(d int) bool { return d >= 29 && d <= 45 }

// listing is every file of the manifests directory with its size, to see
// that a rerun changed nothing.
func listing(t *testing.T, dir string) string {
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			fmt.Fprintf(&b, "%s %d\n", rel, len(data))
		}
		return err
	})
	return b.String()
}

// The two-week release over eight weeks of nightly builds, for both pairs
// of policies: promote runs every morning, then the site is built. A
// candidate is failed by hand on a release day, the release day of week
// six finds nothing that passed, and the current release is revoked in
// week eight. The test asserts the exact series of releases, the stale
// warning and the failure it names on every day, what follows the
// revocation (the newest good candidate at once under next-good, the
// fallback until the next release day under wait), and that rerunning
// promote on the same day changes nothing.
func TestPromoteTimeline(t *testing.T) {
	for _, tc := range []struct {
		policy, withdrawn string
		releases          map[int]int // day → the candidate's day promoted then
		current           map[int]int // day → the candidate day stable offers, where it changes
		stale             []int       // days the stable page warns
		exit4             []int       // days promote exits 4: due, nothing passed
	}{
		{
			policy: "next-good", withdrawn: "next-good",
			releases: map[int]int{0: 0, 14: 13, 28: 28, 46: 46, 50: 50},
			current:  map[int]int{0: 0, 14: 13, 28: 28, 46: 46, 50: 50},
			stale:    []int{42, 43, 44, 45},
			exit4:    []int{42, 43, 44, 45},
		},
		{
			policy: "skip", withdrawn: "wait",
			releases: map[int]int{0: 0, 14: 13, 28: 28},
			current:  map[int]int{0: 0, 14: 13, 28: 28, 50: 13},
			stale:    []int{42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55},
			exit4:    []int{42},
		},
	} {
		t.Run(tc.policy+"+"+tc.withdrawn, func(t *testing.T) {
			work := t.TempDir()
			manifests := filepath.Join(work, "manifests")
			cfg := filepath.Join(work, "sitegen.toml")
			os.WriteFile(cfg, []byte(`title = "Fedora Atomic Host"
base-url = "https://atomic.fedoraproject.org/"
downloads-url = "https://dl.fedoraproject.org/pub/alt/atomic/"
[[streams]]
name = "stable"
cadence = "14d"
[[streams]]
name = "testing"
cadence = "14d"
[promote]
stale-policy = "`+tc.policy+`"
withdrawn-policy = "`+tc.withdrawn+`"
`), 0o644)
			signer, err := trust.LoadSigner(testKey)
			if err != nil {
				t.Fatal(err)
			}
			common := []string{"--manifests", manifests, "--keys", testKeys, "--config", cfg, "--project", "../.."}
			current := -1
			for d := range 56 {
				// The nightly build, signed by the pipeline at midnight.
				b := synth.Build("testing", candidateRelease(d), at(d, 0))
				b.OSTree.Ref = "fedora/28/x86_64/testing/atomic-host"
				if failedNight(d) {
					b = synth.Failed(b, tracker(d))
				}
				if err := synth.WriteBuild(manifests, signer, b); err != nil {
					t.Fatal(err)
				}
				switch d {
				case 14: // tests passed, but QA fails it by hand before the release
					revoke(t, manifests, signer, "testing", candidateRelease(14), at(14, 3))
				case 50: // the current release is withdrawn
					revoke(t, manifests, signer, "stable", candidateRelease(current), at(50, 5))
				}

				args := append([]string{"promote", "--from", "testing", "--to", "stable", "--key", testKey,
					"--now", at(d, 6).Format(time.RFC3339)}, common...)
				out, errs, code := sitegen(args...)
				wantCode := 0
				if slices.Contains(tc.exit4, d) {
					wantCode = promote.ExitNothingPassed
				}
				if code != wantCode {
					t.Fatalf("day %d: promote exited %d, want %d\n%s%s", d, code, wantCode, out, errs)
				}
				promoted, want := strings.HasPrefix(out, "promoted "), tc.releases[d]
				if _, due := tc.releases[d]; promoted != due {
					t.Fatalf("day %d: promote said %q%q; want a promotion: %v", d, out, errs, due)
				}
				if promoted && !strings.Contains(out, "promoted testing/"+candidateRelease(want)+" to stable") {
					t.Fatalf("day %d: %s, want candidate of day %d", d, out, want)
				}
				if code == promote.ExitNothingPassed && !strings.Contains(errs, "newest failure "+candidateRelease(d)+": "+tracker(d)) {
					t.Errorf("day %d: the stale line does not name the newest failure:\n%s", d, errs)
				}
				if d == 14 && !strings.Contains(out, candidateRelease(13)) {
					t.Errorf("day 14: the candidate failed by hand was not skipped: %s", out)
				}

				// Rerunning on the same day changes nothing.
				before := listing(t, manifests)
				out2, errs2, code2 := sitegen(args...)
				if strings.HasPrefix(out2, "promoted") || (code2 != 0 && code2 != promote.ExitNothingPassed) || listing(t, manifests) != before {
					t.Fatalf("day %d: the rerun did something: exit %d\n%s%s", d, code2, out2, errs2)
				}

				// The site, built right after.
				pub := filepath.Join(work, "public")
				if out, errs, code := sitegen(append([]string{"build", "--out", pub, "--now", at(d, 7).Format(time.RFC3339)}, common...)...); code != 0 {
					t.Fatalf("day %d: build exited %d\n%s%s", d, code, out, errs)
				}
				if c, ok := tc.current[d]; ok {
					current = c
				}
				page, err := os.ReadFile(filepath.Join(pub, "streams", "stable", "index.html"))
				if err != nil {
					t.Fatal(err)
				}
				html := string(page)
				if !strings.Contains(html, "/streams/stable/"+candidateRelease(current)+"/") {
					t.Errorf("day %d: the stable page does not offer %s", d, candidateRelease(current))
				}
				// Stale, or fallen back to an older release: the page says
				// what happened and what comes next.
				warns := strings.Contains(html, `class="notice notice-stale"`) || strings.Contains(html, `class="notice notice-next"`)
				if want := slices.Contains(tc.stale, d); warns != want {
					t.Errorf("day %d: stale warning %v, want %v", d, warns, want)
				}
				switch {
				case !warns:
				case d <= 45: // every night since day 29 failed
					if !strings.Contains(html, "No candidate of testing has passed its tests since") || !strings.Contains(html, tracker(d)) {
						t.Errorf("day %d: the stale warning does not say no candidate passed, linking %s", d, tracker(d))
					}
				default: // day 46 passed, and every night after
					newest := candidateRelease(d)
					if !strings.Contains(html, "Candidate <a href=\"/streams/testing/"+newest+"/\">"+newest+"</a> of testing passed its tests on") {
						t.Errorf("day %d: the warning does not name the candidate to be released next, %s", d, newest)
					}
				}
			}
		})
	}
}

func revoke(t *testing.T, manifests string, s catalog.Signer, stream, rel string, when time.Time) {
	t.Helper()
	if _, err := catalog.Revoke(manifests, s, manifest.Revocation{Stream: stream, Release: rel,
		Reason: "https://bugzilla.redhat.com/show_bug.cgi?id=1600000", RevokedAt: when}); err != nil {
		t.Fatal(err)
	}
}

// Two promote runs started together promote once; the other is refused,
// naming the lock's holder, or finds the release day done.
func TestPromoteTwoAtOnce(t *testing.T) {
	manifests := filepath.Join(t.TempDir(), "manifests")
	signer, err := trust.LoadSigner(testKey)
	if err != nil {
		t.Fatal(err)
	}
	for d := range 3 {
		if err := synth.WriteBuild(manifests, signer, synth.Build("testing", candidateRelease(d), at(d, 0))); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	outs := make([]string, 8)
	for i := range outs {
		wg.Go(func() {
			out, errs, code := sitegen("promote", "--from", "testing", "--to", "stable", "--key", testKey, "--now", at(2, 6).Format(time.RFC3339),
				"--manifests", manifests, "--keys", testKeys, "--project", "../..")
			outs[i] = fmt.Sprintf("%d %s%s", code, out, errs)
		})
	}
	wg.Wait()
	promoted := 0
	for _, o := range outs {
		switch {
		case strings.HasPrefix(o, "0 promoted"):
			promoted++
		case strings.HasPrefix(o, "0 not due"), strings.HasPrefix(o, "1 sitegen: locked: another promote"):
		default:
			t.Errorf("unexpected outcome: %s", o)
		}
	}
	if promoted != 1 {
		t.Errorf("%d runs promoted, want exactly 1:\n%s", promoted, strings.Join(outs, "\n"))
	}
	if files, _ := filepath.Glob(filepath.Join(manifests, "stable", "*.json")); len(files) != 1 {
		t.Errorf("stable holds %v, want one release", files)
	}
}

// A candidate whose bytes changed after signing is refused, and the
// release stream is left as it was.
func TestPromoteTamperedCandidate(t *testing.T) {
	manifests := filepath.Join(t.TempDir(), "manifests")
	signer, err := trust.LoadSigner(testKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.WriteBuild(manifests, signer, synth.Build("testing", candidateRelease(0), at(0, 0))); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(manifests, "testing", candidateRelease(0)+".json")
	data, _ := os.ReadFile(p)
	os.WriteFile(p, bytes.Replace(data, []byte(`"title": "`), []byte(`"title": "Evil `), 1), 0o644)
	_, errs, code := sitegen("promote", "--from", "testing", "--to", "stable", "--key", testKey, "--now", at(0, 6).Format(time.RFC3339),
		"--manifests", manifests, "--keys", testKeys, "--project", "../..")
	if code != 1 || !strings.Contains(errs, p) {
		t.Errorf("tampered candidate: exit %d, stderr %q; want 1 naming %s", code, errs, p)
	}
	if _, err := os.Stat(filepath.Join(manifests, "stable")); err == nil {
		t.Error("the release stream was written")
	}
}
