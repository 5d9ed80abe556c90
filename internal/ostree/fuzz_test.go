package ostree_test

import (
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/ostree"
)

// FuzzClassify checks that every path gets a phase in range, that what is
// never published (tmp/, state/, locks) stays skipped, and that nothing
// below refs/ is published before the objects it points at.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"config", "summary", "summary.sig", "refs/heads/fedora/28/x86_64/atomic-host",
		"objects/ab/" + strings.Repeat("c", 62) + ".filez", "objects/ab/" + strings.Repeat("c", 62) + ".commit",
		"deltas/ab/cd-ef/0", "deltas/ab/cd-ef/superblock", "delta-indexes/ab/cd.index",
		"tmp/cache/x", "state/x.commitpartial", ".lock", "objects/../refs/heads/x", "refs/../summary",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rel string) {
		c := ostree.Classify(rel)
		if c.Phase < 0 || c.Phase >= ostree.NumPhases {
			t.Fatalf("Classify(%q).Phase = %d, out of range", rel, c.Phase)
		}
		if first, _, _ := strings.Cut(rel, "/"); (first == "tmp" || first == "state") && !c.Skip {
			t.Fatalf("Classify(%q) publishes a file of %s/", rel, first)
		}
		if strings.HasPrefix(rel, "refs/") && !c.Skip && c.Phase < ostree.PhaseRefs {
			t.Fatalf("Classify(%q) = phase %v, before the objects' phases end", rel, c.Phase)
		}
	})
}
