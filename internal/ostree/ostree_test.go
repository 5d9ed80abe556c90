package ostree_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/ostree"
)

func TestClassify(t *testing.T) {
	const o = "objects/ab/cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
	for _, tt := range []struct {
		rel     string
		phase   ostree.Phase
		mutable bool
		skip    bool
	}{
		{o[:len(o)-2] + ".filez", ostree.PhaseFiles, false, false},
		{o[:len(o)-2] + ".dirtree", ostree.PhaseDirs, false, false},
		{o[:len(o)-2] + ".dirmeta", ostree.PhaseDirs, false, false},
		{o[:len(o)-2] + ".commit", ostree.PhaseCommits, false, false},
		{o[:len(o)-2] + ".commitmeta", ostree.PhaseCommits, true, false},
		{"deltas/ab/cdef-0123/0", ostree.PhaseDeltaParts, false, false},
		{"deltas/ab/cdef-0123/superblock", ostree.PhaseSuperblocks, false, false},
		{"delta-indexes/ab/cdef.index", ostree.PhaseDeltaIndex, true, false},
		{"config", ostree.PhaseConfig, true, false},
		{"refs/heads/fedora/28/x86_64/atomic-host", ostree.PhaseRefs, true, false},
		{"refs/remotes/origin/x", ostree.PhaseRefs, true, false},
		{"summary", ostree.PhaseSummary, true, false},
		{"summary.sig", ostree.PhaseSummarySig, true, false},
		{"summary.idx", ostree.PhaseSummaryIndex, true, false},
		{"summary.idx.sig", ostree.PhaseSummaryIndexSig, true, false},
		{"summaries/0123abcd.gz", ostree.PhaseSummaries, false, false},
		{"tmp/cache/x", 0, false, true},
		{"state/abc.commitpartial", 0, false, true},
		{".lock", 0, false, true},
		{"uncompressed-objects-cache/ab/cdef.file", 0, false, true},
		{"repo-finder/x", 0, false, true},
		{"README", 0, false, true},
		{"summary.lock", 0, false, true},
		{"extensions/x", ostree.PhaseOther, true, false},
	} {
		c := ostree.Classify(tt.rel)
		if c.Skip != tt.skip || (!tt.skip && (c.Phase != tt.phase || c.Mutable != tt.mutable)) {
			t.Errorf("Classify(%q) = %+v, want phase %v mutable %v skip %v", tt.rel, c, tt.phase, tt.mutable, tt.skip)
		}
	}
	// The order that keeps clients safe.
	order := []ostree.Phase{ostree.PhaseFiles, ostree.PhaseDirs, ostree.PhaseCommits, ostree.PhaseDeltaParts,
		ostree.PhaseSuperblocks, ostree.PhaseDeltaIndex, ostree.PhaseConfig, ostree.PhaseRefs, ostree.PhaseSummary, ostree.PhaseSummarySig}
	for i := 1; i < len(order); i++ {
		if order[i-1] >= order[i] {
			t.Errorf("%v does not come before %v", order[i-1], order[i])
		}
	}
}

func TestIsRepo(t *testing.T) {
	for _, tt := range []struct {
		config string
		want   bool
		err    string
	}{
		{"[core]\nrepo_version=1\nmode=archive-z2\n", true, ""},
		{"[core]\nmode=archive\n", true, ""},
		{"[core]\nmode=bare\n", false, `mode "bare" cannot be served over HTTP`},
		{"[remote \"x\"]\nmode=archive\n", false, "no [core] mode"},
	} {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "objects"), 0o755)
		os.WriteFile(filepath.Join(dir, "config"), []byte(tt.config), 0o644)
		got, err := ostree.IsRepo(dir)
		if got != tt.want || (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("IsRepo(%q) = %v, %v; want %v, %q", tt.config, got, err, tt.want, tt.err)
		}
	}
	if ok, err := ostree.IsRepo(t.TempDir()); ok || err != nil {
		t.Errorf("empty dir: %v, %v", ok, err)
	}
}

func TestObjectChecksum(t *testing.T) {
	sum := "ab" + strings.Repeat("c", 62)
	got, typ, ok := ostree.ObjectChecksum(ostree.CommitPath(sum))
	if !ok || got != sum || typ != "commit" {
		t.Errorf("ObjectChecksum = %q %q %v", got, typ, ok)
	}
	if _, _, ok := ostree.ObjectChecksum("refs/heads/x"); ok {
		t.Error("a ref is not an object")
	}
}
