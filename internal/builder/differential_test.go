package builder_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/builder"
	"github.com/projectatomic/atomic-site/internal/history"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/pages"
	"github.com/projectatomic/atomic-site/internal/testkit/synth"
	"github.com/projectatomic/atomic-site/internal/trust"
)

var (
	diffSeed  = flag.Uint64("diff.seed", 1, "seed of TestIncrementalEqualsFull's changes (replay a failure with the seed it names)")
	diffSteps = flag.Int("diff.steps", 200, "changes TestIncrementalEqualsFull applies")
)

// An incremental build is right only if, after any sequence of changes, it
// gives byte for byte what a full build of the same inputs gives. A
// Builder kept alive, as serve keeps one, starts on a synthetic history of
// 300 builds on two streams, and a seeded random sequence of changes is
// applied to its inputs: new builds (the newest, or older than the
// current), failed builds, revocations and revocations removed, manifests
// rewritten with new notes, manifests deleted (a rollback, allowed), the
// site config's titles and cadences, a template, and the clock moving on.
// After each, every file of its output is compared with a fresh full build
// of the same inputs at the same moment; the first difference fails the
// test, naming the seed, the step and the file.
func TestIncrementalEqualsFull(t *testing.T) {
	seed, steps := *diffSeed, *diffSteps
	rng := rand.New(rand.NewPCG(seed, 0xd1ff))
	w := newDiffWorld(t)
	// serve reads the clock at each rebuild; a full build is given it.
	opts := w.options()
	opts.History.Now, opts.History.Clock = time.Time{}, func() time.Time { return w.now }
	pub := t.TempDir()
	serve, err := builder.New(opts, pub, true)
	if err != nil {
		t.Fatal(err)
	}
	defer serve.Close()
	ctx := context.Background()
	if _, err := serve.Rebuild(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for step := 1; step <= steps; step++ {
		what, changed := w.change(t, rng)
		if _, err := serve.Rebuild(ctx, changed); err != nil {
			t.Fatalf("seed %d, step %d (%s): serve's rebuild: %v", seed, step, what, err)
		}
		full := filepath.Join(t.TempDir(), "public")
		if _, err := builder.Build(ctx, w.options(), full); err != nil {
			t.Fatalf("seed %d, step %d (%s): full build: %v", seed, step, what, err)
		}
		if diff := firstDifference(t, full, pub); diff != "" {
			t.Fatalf("seed %d, step %d (%s): serve's output differs from a full build: %s\n(replay: go test ./internal/builder -run TestIncrementalEqualsFull -args -diff.seed %d -diff.steps %d)",
				seed, step, what, diff, seed, step)
		}
		os.RemoveAll(full)
	}
}

// diffWorld is the inputs of both builds: a project directory of their
// own (its config and templates change), a manifests directory, a clock.
type diffWorld struct {
	project, manifests string
	signer             *trust.Signer
	now                time.Time
	builds             map[string][]*manifest.Build // by stream, in date order
	revoked            map[string]bool              // stream/release
}

func newDiffWorld(t *testing.T) *diffWorld {
	t.Helper()
	// In two languages: each page is rendered in both, apart too.
	w := &diffWorld{project: germanProject(t), manifests: t.TempDir(), builds: map[string][]*manifest.Build{}, revoked: map[string]bool{}}
	var err error
	if w.signer, err = trust.LoadSigner(filepath.Join(repo, "testdata", "test-signing.key")); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 300 {
		stream := []string{"stable", "testing"}[i%2]
		day := start.AddDate(0, 0, i/2)
		b := synth.Build(stream, fmt.Sprintf("28.%s.%d", day.Format("20060102"), i%2), day)
		if i%13 == 12 {
			synth.Failed(b, fmt.Sprintf("https://bugzilla.example.org/%d", i))
		}
		w.write(t, b)
	}
	w.now = start.AddDate(0, 0, 152)
	// serve renders settled pages apart: the test covers them from the start.
	if settled := w.now.Add(-pages.SettleAfter); !start.Before(settled) {
		t.Fatalf("no build is older than %s at %s: serve would render no page apart", pages.SettleAfter, w.now)
	}
	return w
}

func (w *diffWorld) options() builder.Options {
	return builder.Options{
		ProjectDir: w.project,
		History: history.Options{
			Manifests: w.manifests,
			Keys:      filepath.Join(repo, "testdata", "keys"),
			Config:    filepath.Join(w.project, "site", "sitegen.toml"),
			Now:       w.now,
		},
		AllowRollback: true,
	}
}

func (w *diffWorld) write(t *testing.T, b *manifest.Build) {
	t.Helper()
	if err := synth.WriteBuild(w.manifests, w.signer, b); err != nil {
		t.Fatal(err)
	}
	list := w.builds[b.Stream]
	i := slices.IndexFunc(list, func(x *manifest.Build) bool { return x.Release == b.Release })
	if i >= 0 {
		list[i] = b
	} else {
		list = append(list, b)
		slices.SortFunc(list, func(x, y *manifest.Build) int { return x.BuildDate.Compare(*y.BuildDate) })
	}
	w.builds[b.Stream] = list
}

// change applies one random change and says what it was, with the project
// files it touched (as serve's watcher names them).
func (w *diffWorld) change(t *testing.T, rng *rand.Rand) (string, []string) {
	t.Helper()
	stream := []string{"stable", "testing"}[rng.IntN(2)]
	list := w.builds[stream]
	newest := *list[len(list)-1].BuildDate
	switch k := rng.IntN(100); {
	case k < 20: // the newest build, passed or failed
		day := newest.Add(time.Duration(1+rng.IntN(36)) * time.Hour)
		if day.After(w.now) {
			w.now = day.Add(time.Hour)
		}
		b := synth.Build(stream, fmt.Sprintf("29.%s.%d", day.Format("20060102.150405"), rng.IntN(1000)), day)
		what := "new build " + stream + "/" + b.Release
		if rng.IntN(4) == 0 {
			synth.Failed(b, "https://bugzilla.example.org/new-"+b.Release)
			what = "new failed build " + stream + "/" + b.Release
		}
		w.write(t, b)
		return what, nil
	case k < 30: // a build older than the current one
		i := len(list) - 2 - rng.IntN(min(len(list)-1, 20))
		day := list[i].BuildDate.Add(time.Duration(1+rng.IntN(20)) * time.Hour)
		b := synth.Build(stream, fmt.Sprintf("27.%s.%d", day.Format("20060102.150405"), rng.IntN(1000)), day)
		w.write(t, b)
		return "older build " + stream + "/" + b.Release, nil
	case k < 42: // a revocation, of a recent build or, now and then, an old one (a settled page)
		from := max(0, len(list)-30)
		if rng.IntN(3) == 0 {
			from = 0
		}
		var cands []*manifest.Build
		for _, b := range list[from:] {
			if !b.Failed() && !w.revoked[stream+"/"+b.Release] {
				cands = append(cands, b)
			}
		}
		if len(cands) == 0 {
			return "nothing to revoke", nil
		}
		b := cands[rng.IntN(len(cands))]
		at := b.BuildDate.Add(time.Duration(1+rng.IntN(48)) * time.Hour)
		if at.After(w.now) {
			w.now = at.Add(time.Hour)
		}
		if err := synth.WriteRevocation(w.manifests, w.signer, stream, b.Release, "https://bugzilla.example.org/why-"+b.Release, at); err != nil {
			t.Fatal(err)
		}
		w.revoked[stream+"/"+b.Release] = true
		return "revoked " + stream + "/" + b.Release, nil
	case k < 50: // a revocation removed
		for key := range w.revoked {
			s, rel, _ := strings.Cut(key, "/")
			p := filepath.Join(w.manifests, s, rel+manifest.RevocationSuffix)
			os.Remove(p)
			os.Remove(p + trust.SigSuffix)
			delete(w.revoked, key)
			return "revocation removed " + key, nil
		}
		return "no revocation to remove", nil
	case k < 62: // a manifest rewritten with new notes, of a recent build or an old one
		b := list[len(list)-1-rng.IntN(min(len(list), 10))]
		if rng.IntN(3) == 0 {
			b = list[rng.IntN(len(list))]
		}
		cp := *b
		cp.Notes = fmt.Sprintf("Rewritten at step %d: *%d*.", rng.IntN(1000), rng.IntN(1000))
		w.write(t, &cp)
		return "notes of " + stream + "/" + b.Release, nil
	case k < 70: // a manifest deleted, its revocation with it: a recent one, or an old one
		i := len(list) - 1 - rng.IntN(min(len(list)-1, 10))
		if rng.IntN(3) == 0 {
			i = rng.IntN(len(list) - 1)
		}
		b := list[i]
		for _, p := range []string{b.Release + ".json", b.Release + manifest.RevocationSuffix} {
			os.Remove(filepath.Join(w.manifests, stream, p))
			os.Remove(filepath.Join(w.manifests, stream, p+trust.SigSuffix))
		}
		delete(w.revoked, stream+"/"+b.Release)
		w.builds[stream] = slices.Delete(list, i, i+1)
		return "deleted " + stream + "/" + b.Release, nil
	case k < 78: // the site config: a title or a cadence
		p := filepath.Join(w.project, "site", "sitegen.toml")
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var what string
		if rng.IntN(2) == 0 {
			title := fmt.Sprintf("Fedora Atomic Host %d", 28+rng.IntN(5))
			data = replaceLine(data, `title = "`, `title = "`+title+`"`)
			what = "config: the site's title is " + title
		} else {
			cadence := fmt.Sprintf("%dd", 1+rng.IntN(20))
			data = replaceLine(data, `cadence = "`, `cadence = "`+cadence+`"`)
			what = "config: stable's cadence is " + cadence
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return what, []string{p}
	case k < 82: // a stream of no config appears, gets a build, or goes: every page's navigation changes
		old := w.builds["next"]
		if len(old) > 0 && rng.IntN(3) > 0 {
			// Its current build, which may have settled meanwhile, is
			// current no more: its page changes as it settles.
			day := w.now.Add(-time.Hour)
			b := synth.Build("next", fmt.Sprintf("30.%s.0", day.Format("20060102.150405")), day)
			w.write(t, b)
			return "new build next/" + b.Release, nil
		}
		if len(old) > 0 {
			for _, b := range old {
				os.Remove(filepath.Join(w.manifests, "next", b.Release+".json"))
				os.Remove(filepath.Join(w.manifests, "next", b.Release+".json"+trust.SigSuffix))
			}
			os.Remove(filepath.Join(w.manifests, "next"))
			delete(w.builds, "next")
			return "stream next goes", nil
		}
		// Its first build may be old enough to settle, but for being
		// current.
		day := w.now.Add(-time.Duration(1+rng.IntN(120*24)) * time.Hour)
		b := synth.Build("next", fmt.Sprintf("30.%s.0", day.Format("20060102.150405")), day)
		w.write(t, b)
		return "stream next appears", nil
	case k < 83: // a translation
		p := filepath.Join(w.project, "po", "de.po")
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		text := fmt.Sprintf("Zum Inhalt (%d)", rng.IntN(1_000_000))
		data = replaceLine(data, `msgstr "Zum Inhalt`, `msgstr "`+text+`"`)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return "translation: " + text, []string{p}
	case k < 85: // a template
		p := filepath.Join(w.project, "templates", "_partials", "notices.html")
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mark := fmt.Sprintf("<!-- edit %d -->\n", rng.IntN(1_000_000))
		if err := os.WriteFile(p, append(data, mark...), 0o644); err != nil {
			t.Fatal(err)
		}
		return "template notices.html edited", []string{p}
	default: // the clock moves on: hours, or days (staleness comes)
		d := time.Duration(1+rng.IntN(6)) * time.Hour
		if rng.IntN(2) == 0 {
			d = time.Duration(1+rng.IntN(10)) * 24 * time.Hour
		}
		w.now = w.now.Add(d)
		return "clock moves " + d.String(), nil
	}
}

// replaceLine replaces the first line that starts with prefix.
func replaceLine(data []byte, prefix, line string) []byte {
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			lines[i] = line
			break
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// firstDifference compares two published sites file by file and names
// the first file missing, extra or different, with where it differs.
func firstDifference(t *testing.T, want, got string) string {
	t.Helper()
	files := func(dir string) map[string][]byte {
		m := map[string][]byte{}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			data, err := os.ReadFile(p)
			m[filepath.ToSlash(rel)] = data
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	w, g := files(want), files(got)
	var names []string
	for n := range w {
		names = append(names, n)
	}
	for n := range g {
		if _, ok := w[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		wd, inWant := w[n]
		gd, inGot := g[n]
		switch {
		case !inGot:
			return n + ": missing from serve's output"
		case !inWant:
			return n + ": in serve's output, not in a full build's"
		case !bytes.Equal(wd, gd):
			return n + ": " + where(wd, gd)
		}
	}
	return ""
}

// where says where two versions of a file first differ, with the line
// before for context.
func where(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := range min(len(wl), len(gl)) {
		if wl[i] != gl[i] {
			before := ""
			if i > 0 {
				before = fmt.Sprintf("  after: %.200s\n", strings.TrimSpace(wl[i-1]))
			}
			return fmt.Sprintf("line %d:\n%s  full:  %.200s\n  serve: %.200s", i+1, before, strings.TrimSpace(wl[i]), strings.TrimSpace(gl[i]))
		}
	}
	return fmt.Sprintf("%d lines in a full build, %d in serve's", len(wl), len(gl))
}
