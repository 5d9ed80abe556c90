package release_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/release"
)

// b makes a verified build; spec is "release" or "release failed".
func b(stream, spec string, day int) *catalog.Build {
	rel, status, _ := strings.Cut(spec, " ")
	m := &manifest.Build{
		Stream:  stream,
		Release: rel,
		Status:  manifest.StatusReleased,
		Date:    time.Date(2018, 5, day, 6, 0, 0, 0, time.UTC),
	}
	if status == "failed" {
		m.Status = manifest.StatusFailed
		m.FailureTracker = "https://bugzilla.example.org/" + rel
	}
	return &catalog.Build{Build: m, Signed: signed(stream + "/" + rel + ".json")}
}

// signed is a file's place: Path as the catalog sees it, and the name its
// errors give it, as a Loader of the directory "manifests" would.
func signed(p string) catalog.Signed {
	return catalog.Signed{Path: p, Name: "manifests/" + p}
}

func r(stream, rel string, at int) *catalog.Revocation {
	return &catalog.Revocation{
		Revocation: &manifest.Revocation{Stream: stream, Release: rel, Reason: "https://bugzilla.example.org/why-" + rel, RevokedAt: day(at)},
		Signed:     signed(stream + "/" + rel + ".revoked.json"),
	}
}

func day(d int) time.Time { return time.Date(2018, 5, d, 6, 0, 0, 0, time.UTC) }

func releases(bs []*release.Build) string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Release)
	}
	return strings.Join(out, " ")
}

func rel(b *release.Build) string {
	if b == nil {
		return "-"
	}
	return b.Release
}

func TestCompute(t *testing.T) {
	tests := []struct {
		name        string
		builds      []*catalog.Build
		revs        []*catalog.Revocation
		now         time.Time
		cadence     time.Duration
		wantCurrent string
		wantStale   bool
		wantSince   time.Time
		wantFailure string
		wantWithdr  string
		wantOrder   string
		wantReplace map[string]string
	}{
		{
			name:        "current is the newest released build",
			builds:      []*catalog.Build{b("s", "1", 1), b("s", "3", 15), b("s", "2", 8)},
			now:         day(16),
			wantCurrent: "3", wantFailure: "-", wantOrder: "3 2 1",
		},
		{
			name:        "failed builds are never current",
			builds:      []*catalog.Build{b("s", "1", 1), b("s", "2 failed", 8)},
			now:         day(9),
			wantCurrent: "1", wantFailure: "2", wantOrder: "2 1",
		},
		{
			name:        "stale after the cadence, with the newest failure linked",
			builds:      []*catalog.Build{b("s", "1", 1), b("s", "2 failed", 15), b("s", "3 failed", 29)},
			now:         day(30),
			wantCurrent: "1", wantStale: true, wantSince: day(15), wantFailure: "3", wantOrder: "3 2 1",
		},
		{
			name:        "exactly at the cadence is not yet stale",
			builds:      []*catalog.Build{b("s", "1", 1)},
			now:         day(15),
			wantCurrent: "1", wantSince: day(15), wantFailure: "-", wantOrder: "1",
		},
		{
			name:        "a shorter cadence makes it stale sooner",
			builds:      []*catalog.Build{b("s", "1", 1)},
			now:         day(3),
			cadence:     24 * time.Hour,
			wantCurrent: "1", wantStale: true, wantSince: day(2), wantFailure: "-", wantOrder: "1",
		},
		{
			name:        "stale without any failure",
			builds:      []*catalog.Build{b("s", "1", 1)},
			now:         day(20),
			wantCurrent: "1", wantStale: true, wantSince: day(15), wantFailure: "-", wantOrder: "1",
		},
		{
			name:        "failures before the current build are not linked",
			builds:      []*catalog.Build{b("s", "1 failed", 1), b("s", "2", 8)},
			now:         day(30),
			wantCurrent: "2", wantStale: true, wantSince: day(22), wantFailure: "-", wantOrder: "2 1",
		},
		{
			name:        "revoked current falls back to the previous good build",
			builds:      []*catalog.Build{b("s", "1", 1), b("s", "2", 8), b("s", "3", 15)},
			revs:        []*catalog.Revocation{r("s", "3", 16)},
			now:         day(16),
			wantCurrent: "2", wantFailure: "-", wantWithdr: "3", wantOrder: "3 2 1",
			wantReplace: map[string]string{"3": "2"},
		},
		{
			name:        "an old revoked build is not news on the stream",
			builds:      []*catalog.Build{b("s", "1", 1), b("s", "2", 8)},
			revs:        []*catalog.Revocation{r("s", "1", 9)},
			now:         day(9),
			wantCurrent: "2", wantFailure: "-", wantOrder: "2 1",
			wantReplace: map[string]string{"1": "2"},
		},
		{
			name:        "revoked fallback may itself be stale",
			builds:      []*catalog.Build{b("s", "1", 1), b("s", "2", 20)},
			revs:        []*catalog.Revocation{r("s", "2", 21)},
			now:         day(21),
			wantCurrent: "1", wantStale: true, wantSince: day(15), wantFailure: "-", wantWithdr: "2", wantOrder: "2 1",
			wantReplace: map[string]string{"2": "1"},
		},
		{
			name:        "all revoked",
			builds:      []*catalog.Build{b("s", "1", 1), b("s", "2", 8)},
			revs:        []*catalog.Revocation{r("s", "1", 9), r("s", "2", 9)},
			now:         day(9),
			wantCurrent: "-", wantFailure: "-", wantWithdr: "2 1", wantOrder: "2 1",
			wantReplace: map[string]string{"1": "-", "2": "-"},
		},
		{
			// A newer build does not change what an old build's page
			// says replaced it: that is fixed when it is withdrawn.
			name:        "the replacement is fixed when the build is withdrawn",
			builds:      []*catalog.Build{b("s", "1", 1), b("s", "2", 8), b("s", "3", 15)},
			revs:        []*catalog.Revocation{r("s", "2", 9)},
			now:         day(16),
			wantCurrent: "3", wantFailure: "-", wantOrder: "3 2 1",
			wantReplace: map[string]string{"2": "1"},
		},
		{
			name:        "withdrawn one after the other",
			builds:      []*catalog.Build{b("s", "1", 1), b("s", "2", 8), b("s", "3", 15)},
			revs:        []*catalog.Revocation{r("s", "3", 16), r("s", "2", 17)},
			now:         day(18),
			wantCurrent: "1", wantStale: true, wantFailure: "-", wantWithdr: "3 2", wantOrder: "3 2 1",
			wantReplace: map[string]string{"3": "2", "2": "1"},
		},
		{
			name:        "failed only",
			builds:      []*catalog.Build{b("s", "1 failed", 1), b("s", "2 failed", 8)},
			now:         day(9),
			wantCurrent: "-", wantFailure: "2", wantOrder: "2 1",
		},
		{
			name:        "a revoked failed build is a failure, not a withdrawal",
			builds:      []*catalog.Build{b("s", "1", 1), b("s", "2 failed", 8)},
			revs:        []*catalog.Revocation{r("s", "2", 9)},
			now:         day(9),
			wantCurrent: "1", wantFailure: "2", wantOrder: "2 1",
			wantReplace: map[string]string{"2": "1"},
		},
		{
			name:        "same day ordered by release number, not text",
			builds:      []*catalog.Build{b("s", "28.20180501.9", 1), b("s", "28.20180501.10", 1)},
			now:         day(2),
			wantCurrent: "28.20180501.10", wantFailure: "-", wantOrder: "28.20180501.10 28.20180501.9",
		},
		{
			name:        "no builds yet",
			now:         day(2),
			wantCurrent: "-", wantFailure: "-",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cadence := tt.cadence
			if cadence == 0 {
				cadence = release.DefaultCadence
			}
			state, err := release.Compute(&catalog.Catalog{Builds: tt.builds, Revocations: tt.revs}, release.Options{
				Now:     tt.now,
				Cadence: func(string) time.Duration { return cadence },
				Streams: []string{"s"},
			})
			if err != nil {
				t.Fatal(err)
			}
			st := state.Stream("s")
			if st == nil {
				t.Fatal("stream s missing")
			}
			if got := rel(st.Current); got != tt.wantCurrent {
				t.Errorf("current = %s, want %s", got, tt.wantCurrent)
			}
			if st.Stale != tt.wantStale {
				t.Errorf("stale = %v, want %v", st.Stale, tt.wantStale)
			}
			if !tt.wantSince.IsZero() && !st.StaleSince.Equal(tt.wantSince) {
				t.Errorf("stale since = %v, want %v", st.StaleSince, tt.wantSince)
			}
			if got := rel(st.Failure); got != tt.wantFailure {
				t.Errorf("failure = %s, want %s", got, tt.wantFailure)
			}
			if got := releases(st.Withdrawn); got != tt.wantWithdr {
				t.Errorf("withdrawn = %q, want %q", got, tt.wantWithdr)
			}
			if got := releases(st.Builds); got != tt.wantOrder {
				t.Errorf("order = %q, want %q", got, tt.wantOrder)
			}
			for _, b := range st.Builds {
				want, ok := tt.wantReplace[b.Release]
				if !ok {
					if b.ReplacedBy != nil {
						t.Errorf("%s replaced by %s, want nothing", b.Release, b.ReplacedBy.Release)
					}
					continue
				}
				if !b.Revoked() {
					t.Errorf("%s not revoked", b.Release)
				}
				if got := rel(b.ReplacedBy); got != want {
					t.Errorf("%s replaced by %s, want %s", b.Release, got, want)
				}
			}
		})
	}
}

func TestComputeStreams(t *testing.T) {
	cat := &catalog.Catalog{Builds: []*catalog.Build{b("testing", "1", 1), b("stable", "1", 1)}}
	state, err := release.Compute(cat, release.Options{
		Now: day(10),
		Cadence: func(s string) time.Duration {
			return map[string]time.Duration{"testing": 7 * 24 * time.Hour}[s] + 24*time.Hour
		},
		Streams: []string{"next"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range state.Streams {
		names = append(names, st.Name)
	}
	if got := strings.Join(names, " "); got != "next stable testing" {
		t.Errorf("streams = %q", got)
	}
	if !state.Stream("stable").Stale || !state.Stream("testing").Stale {
		t.Error("per-stream cadence not applied")
	}
	if got := state.Stream("testing").Cadence; got != 8*24*time.Hour {
		t.Errorf("testing cadence = %v", got)
	}
}

func TestComputeErrors(t *testing.T) {
	dup := b("s", "1", 2)
	dup.Signed = signed("s/copy-of-1.json")
	tests := []struct {
		name   string
		cat    catalog.Catalog
		want   error
		naming []string
	}{
		{"two files claim one build", catalog.Catalog{Builds: []*catalog.Build{b("s", "1", 1), dup}},
			release.ErrConflict, []string{"manifests/s/1.json", "manifests/s/copy-of-1.json", "s/1"}},
		{"two revocations of one build", catalog.Catalog{Builds: []*catalog.Build{b("s", "1", 1)},
			Revocations: []*catalog.Revocation{r("s", "1", 2), func() *catalog.Revocation { x := r("s", "1", 2); x.Signed = signed("s/again.revoked.json"); return x }()}},
			release.ErrConflict, []string{"manifests/s/1.revoked.json", "manifests/s/again.revoked.json"}},
		{"revocation of an unknown build", catalog.Catalog{Builds: []*catalog.Build{b("s", "1", 1)},
			Revocations: []*catalog.Revocation{r("s", "2", 2)}},
			release.ErrUnknownBuild, []string{"manifests/s/2.revoked.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := release.Compute(&tt.cat, release.Options{Now: day(3)})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			for _, n := range tt.naming {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("error %q does not name %s", err, n)
				}
			}
		})
	}
}

func TestCompareReleases(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"22.20150616.0", "22.20150616.1", -1},
		{"22.20150616.10", "22.20150616.9", 1},
		{"28.20180501.0", "28.20180501.0", 0},
		{"28.20180501", "28.20180501.0", -1},
		{"28.rc1", "28.rc2", -1},
	} {
		if got := release.CompareReleases(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareReleases(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// promoted makes a build of stable promoted from a candidate of testing.
func promoted(c *catalog.Build, at time.Time) *catalog.Build {
	m := *c.Build
	m.Stream = "stable"
	m.PromotedFrom = &manifest.PromotedFrom{Stream: c.Stream, Release: c.Release, SHA256: c.SHA256, PromotedAt: at}
	return &catalog.Build{Build: &m, Signed: signed("stable/" + c.Release + ".json")}
}

func candidate(spec string, d int) *catalog.Build {
	c := b("testing", spec, d)
	c.SHA256 = strings.Repeat(string(rune('a'+d%6)), 64)
	return c
}

// A promoted build is judged stale from its promotion, not from its
// candidate's build date, and its stale warning links the newest failure
// of the candidate stream.
func TestPromotedStream(t *testing.T) {
	c1, c2, c3 := candidate("28.1", 1), candidate("28.2 failed", 2), candidate("28.3 failed", 3)
	rel1 := promoted(c1, day(8))
	cat := &catalog.Catalog{Builds: []*catalog.Build{c1, c2, c3, rel1}}
	for _, tc := range []struct {
		now   time.Time
		stale bool
	}{
		{day(8).Add(14 * 24 * time.Hour), false}, // exactly the cadence after the promotion
		{day(8).Add(14*24*time.Hour + time.Minute), true},
	} {
		s, err := release.Compute(cat, release.Options{Now: tc.now})
		if err != nil {
			t.Fatal(err)
		}
		st := s.Stream("stable")
		if st.Current == nil || st.Current.Release != "28.1" || st.Stale != tc.stale {
			t.Fatalf("at %v: current %s, stale %v; want 28.1, stale %v", tc.now, rel(st.Current), st.Stale, tc.stale)
		}
		if rel(st.Failure) != "28.3" {
			t.Errorf("stable's failure = %s, want testing's newest, 28.3", rel(st.Failure))
		}
	}
}

// A promotion must name a verified candidate with those exact bytes.
func TestPromotionMustMatchCandidate(t *testing.T) {
	c1 := candidate("28.1", 1)
	tampered := promoted(c1, day(8))
	tampered.PromotedFrom.SHA256 = strings.Repeat("0", 64)
	orphan := promoted(candidate("28.9", 9), day(10))
	_, err := release.Compute(&catalog.Catalog{Builds: []*catalog.Build{c1, tampered}}, release.Options{Now: day(20)})
	if !errors.Is(err, release.ErrPromotion) || !strings.Contains(err.Error(), "manifests/stable/28.1.json: ") || !strings.Contains(err.Error(), "manifests/testing/28.1.json has sha256 ") {
		t.Errorf("tampered candidate: %v", err)
	}
	_, err = release.Compute(&catalog.Catalog{Builds: []*catalog.Build{c1, orphan}}, release.Options{Now: day(20)})
	if !errors.Is(err, release.ErrPromotion) || !strings.Contains(err.Error(), "manifests/stable/28.9.json: ") || !strings.Contains(err.Error(), "no verified manifest of testing/28.9") {
		t.Errorf("missing candidate: %v", err)
	}
}

// A withdrawn release is replaced by what the stream offered when it was
// withdrawn: a candidate built before the withdrawal but promoted after it
// was not offered then.
func TestReplacedByWhatWasReleased(t *testing.T) {
	c1, c2, c3 := candidate("28.1", 1), candidate("28.2", 10), candidate("28.3", 19)
	r1, r2, r3 := promoted(c1, day(8)), promoted(c2, day(20)), promoted(c3, day(22))
	cat := &catalog.Catalog{Builds: []*catalog.Build{c1, c2, c3, r1, r2, r3}, Revocations: []*catalog.Revocation{r("stable", "28.2", 21)}}
	s, err := release.Compute(cat, release.Options{Now: day(23)})
	if err != nil {
		t.Fatal(err)
	}
	st := s.Stream("stable")
	for _, b := range st.Builds {
		if b.Release == "28.2" && rel(b.ReplacedBy) != "28.1" {
			t.Errorf("28.2, withdrawn on day 21, replaced by %s; want 28.1 (28.3 was promoted on day 22)", rel(b.ReplacedBy))
		}
	}
	if rel(st.Current) != "28.3" {
		t.Errorf("current %s, want 28.3", rel(st.Current))
	}
}
