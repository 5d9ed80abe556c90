package promote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/history"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/testkit/synth"
	"github.com/projectatomic/atomic-site/internal/trust"
)

const (
	testKey  = "../../testdata/test-signing.key"
	testKeys = "../../testdata/keys"
)

var t0 = time.Date(2018, 6, 4, 0, 0, 0, 0, time.UTC)

func at(day, hour int) time.Time {
	return t0.Add(time.Duration(day)*24*time.Hour + time.Duration(hour)*time.Hour)
}

// history builds a catalog: candidates "c<day>" in testing ("c3!" failed),
// promotions "p<day>@<promotion day>" in stable, and revocations "-<stream>/<day>".
func state(t *testing.T, now time.Time, specs ...string) *release.State {
	t.Helper()
	cat := &catalog.Catalog{}
	cands := map[string]*catalog.Build{}
	name := func(day string) string { return "28." + day }
	for _, s := range specs {
		switch {
		case s[0] == 'c':
			d, failed := strings.CutSuffix(s[1:], "!")
			m := &manifest.Build{Stream: "testing", Release: name(d), Status: manifest.StatusReleased, Date: at(atoi(d), 0)}
			if failed {
				m.Status, m.FailureTracker = manifest.StatusFailed, "https://bugzilla.example.org/"+d
			}
			b := &catalog.Build{Build: m, Signed: catalog.Signed{Path: "testing/" + name(d) + ".json", SHA256: strings.Repeat("a", 64)}}
			cands[d] = b
			cat.Builds = append(cat.Builds, b)
		case s[0] == 'p':
			d, when, _ := strings.Cut(s[1:], "@")
			c := cands[d]
			m := *c.Build
			m.Stream = "stable"
			m.PromotedFrom = &manifest.PromotedFrom{Stream: "testing", Release: c.Release, SHA256: c.SHA256, PromotedAt: at(atoi(when), 6)}
			cat.Builds = append(cat.Builds, &catalog.Build{Build: &m, Signed: catalog.Signed{Path: "stable/" + c.Release + ".json"}})
		case s[0] == '-':
			stream, d, _ := strings.Cut(s[1:], "/")
			cat.Revocations = append(cat.Revocations, &catalog.Revocation{Revocation: &manifest.Revocation{Stream: stream, Release: name(d),
				Reason: "https://bugzilla.example.org/revoked-" + d}, Signed: catalog.Signed{Path: stream + "/" + name(d) + ".revoked.json"}})
		}
	}
	st, err := release.Compute(cat, release.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name    string
		now     time.Time
		policy  string
		force   bool
		specs   []string
		outcome Outcome
		want    string // the candidate, for Promoted; a substring of Why otherwise
	}{
		{"first release", at(0, 6), config.NextGood, false, []string{"c0"}, Promoted, "28.0"},
		{"not a release day", at(5, 6), config.NextGood, false, []string{"c0", "p0@0", "c4"}, NotDue, "the next release day is 2018-06-18"},
		{"release day", at(14, 6), config.NextGood, false, []string{"c0", "p0@0", "c12", "c13!"}, Promoted, "28.12"},
		{"release day done", at(14, 8), config.NextGood, false, []string{"c0", "p0@0", "c12", "p12@14"}, NotDue, "released 28.12 on 2018-06-18"},
		{"nothing passed", at(14, 6), config.NextGood, false, []string{"c0", "p0@0", "c12!", "c13!"}, NothingPassed, "newest failure 28.13: https://bugzilla.example.org/13"},
		{"failed by hand", at(14, 6), config.NextGood, false, []string{"c0", "p0@0", "c12!", "c13", "-testing/13"}, NothingPassed, "28.13 was revoked: https://bugzilla.example.org/revoked-13"},
		{"next-good after a miss", at(17, 6), config.NextGood, false, []string{"c0", "p0@0", "c14!", "c16"}, Promoted, "28.16"},
		{"skip after a miss", at(17, 6), config.Skip, false, []string{"c0", "p0@0", "c14!", "c16"}, NotDue, "the next release day of stable is 2018-07-02"},
		{"skip on the day itself", at(14, 6), config.Skip, false, []string{"c0", "p0@0", "c13"}, Promoted, "28.13"},
		{"force off schedule", at(5, 6), config.NextGood, true, []string{"c0", "p0@0", "c4"}, Promoted, "28.4"},
		{"force, nothing newer", at(5, 6), config.NextGood, true, []string{"c0", "p0@0"}, NothingPassed, "no build of testing passed since 28.0"},
		// A candidate whose promotion was revoked is never promoted again,
		// though it is not revoked in its own stream.
		{"withdrawn promotion", at(28, 6), config.NextGood, false, []string{"c0", "p0@0", "c13", "p13@14", "-stable/13"}, NothingPassed, "28.13 was revoked: its promotion was revoked"},
		{"release days stay fixed", at(28, 6), config.NextGood, false, []string{"c0", "p0@0", "c16", "p16@17", "c27"}, Promoted, "28.27"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{From: "testing", To: "stable", Now: tc.now, Policy: tc.policy, Force: tc.force}
			d, err := Decide(state(t, tc.now, tc.specs...), opts)
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome != tc.outcome {
				t.Fatalf("outcome %d (%s), want %d", d.Outcome, d.Why(opts), tc.outcome)
			}
			if tc.outcome == Promoted {
				if d.Candidate.Release != tc.want {
					t.Errorf("candidate %s, want %s", d.Candidate.Release, tc.want)
				}
			} else if why := d.Why(opts); !strings.Contains(why, tc.want) {
				t.Errorf("Why() = %q, want it to say %q", why, tc.want)
			}
		})
	}
}

// The release manifest carries the candidate's artifacts (relative
// locations made absolute), commit and notes, in the release stream, with
// promoted-from naming the candidate's exact bytes and the release ref.
func TestManifest(t *testing.T) {
	dir := t.TempDir()
	signer, err := trust.LoadSigner(testKey)
	if err != nil {
		t.Fatal(err)
	}
	b := synth.Build("testing", "28.1", at(0, 0))
	b.Notes = "Kernel 4.16."
	if err := synth.WriteBuild(dir, signer, b); err != nil {
		t.Fatal(err)
	}
	h, err := history.Load(context.Background(), history.Options{Manifests: dir, Keys: testKeys, Config: "none", ConfigOptional: true, Now: at(0, 6)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DownloadsURL = "https://dl.example.org/atomic/"
	c := h.State.Stream("testing").Current
	data, err := Manifest(c, "stable", "fedora/28/x86_64/atomic-host", cfg, at(0, 6))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest.Build
	json.Unmarshal(data, &m)
	raw, _ := os.ReadFile(filepath.Join(dir, "testing", "28.1.json"))
	switch p := m.PromotedFrom; {
	case m.Stream != "stable" || m.Release != "28.1" || m.Notes != "Kernel 4.16." || !m.BuildDate.Equal(at(0, 0)):
		t.Errorf("manifest %s/%s, notes %q, date %v", m.Stream, m.Release, m.Notes, m.BuildDate)
	case p == nil || p.Stream != "testing" || p.Release != "28.1" || p.SHA256 != sum(raw) || !p.PromotedAt.Equal(at(0, 6)):
		t.Errorf("promoted-from = %+v, want testing/28.1 with the sha256 of its bytes", p)
	case m.OSTree.Ref != "fedora/28/x86_64/atomic-host" || m.OSTree.Commit != c.OSTree.Commit:
		t.Errorf("ostree = %+v", m.OSTree)
	}
	for f := range m.Files() {
		if !strings.HasPrefix(f.Location, "https://dl.example.org/atomic/testing/") {
			t.Errorf("%s: not made absolute under the candidate's stream", f.Location)
		}
	}
	cfg.DownloadsURL = ""
	if _, err := Manifest(c, "stable", "", cfg, at(0, 6)); err == nil || !strings.Contains(err.Error(), "downloads-url") {
		t.Errorf("relative locations without downloads-url: %v", err)
	}
}

func sum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// A candidate revoked between the choice and the write is refused, and
// nothing is written.
func TestRevokedWhilePromoting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "manifests")
	signer, err := trust.LoadSigner(testKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.WriteBuild(dir, signer, synth.Build("testing", "28.1", at(0, 0))); err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), RunOptions{
		From: "testing", To: "stable", Signer: signer,
		History: history.Options{Manifests: dir, Keys: testKeys, Config: "../../site/sitegen.toml", Now: at(0, 6)},
		beforeWrite: func() {
			if _, err := catalog.Revoke(dir, signer, manifest.Revocation{Stream: "testing", Release: "28.1",
				Reason: "https://bugzilla.example.org/late", RevokedAt: at(0, 5)}); err != nil {
				t.Fatal(err)
			}
		},
	})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "testing/28.1 was revoked while being promoted: https://bugzilla.example.org/late") {
		t.Errorf("Run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "stable")); err == nil {
		t.Error("the release stream was written")
	}
	if _, err := os.Stat(LockPath(dir)); err == nil {
		t.Error("the lock was left behind")
	}
}
