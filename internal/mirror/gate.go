package mirror

import (
	"fmt"
	"os"
	"strings"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/ostree"
)

// Gate says which commits a ref may point at: those a verified manifest
// names (ostree.ref and ostree.commit) for a build that passed its tests
// and is not revoked. A ref that moves anywhere else is not published.
type Gate struct {
	ok  map[refCommit]bool
	why map[refCommit]string // builds that name the commit but may not go live
}

type refCommit struct{ ref, commit string }

// NewGate makes the gate of a verified catalog.
func NewGate(cat *catalog.Catalog) *Gate {
	g := &Gate{ok: map[refCommit]bool{}, why: map[refCommit]string{}}
	revoked := map[string]string{}
	for _, r := range cat.Revocations {
		revoked[r.Stream+"/"+r.Release] = r.Reason
	}
	for _, b := range cat.Builds {
		if b.OSTree == nil {
			continue
		}
		rc := refCommit{b.OSTree.Ref, b.OSTree.Commit}
		id := b.Stream + "/" + b.Release
		switch reason, isRevoked := revoked[id]; {
		case b.Failed():
			g.why[rc] = fmt.Sprintf("build %s failed its tests (%s)", id, b.FailureTracker)
		case isRevoked:
			g.why[rc] = fmt.Sprintf("build %s is revoked (%s)", id, reason)
		default:
			g.ok[rc] = true
		}
	}
	return g
}

// Check says why ref may not point at commit, or nil if it may.
func (g *Gate) Check(ref, commit string) error {
	rc := refCommit{ref, commit}
	if g.ok[rc] {
		return nil
	}
	if why, ok := g.why[rc]; ok {
		return fmt.Errorf("ref %s → commit %s: %s", ref, commit, why)
	}
	return fmt.Errorf("ref %s → commit %s: no signed, released manifest names this commit for this ref", ref, commit)
}

// ApplyGate checks every ref of an ostree source. Where any ref fails, no
// ref and no summary is published: objects may go up, pointers may not.
// The failures are the source's refusals, and the destination's own refs
// and summary are protected from --delete.
func (s *Source) ApplyGate(g *Gate) error {
	if s.Kind != "ostree" {
		return fmt.Errorf("%s: --manifests gates the refs of an ostree repository, and this is a directory of release files", s.Dir)
	}
	var refused []error
	for _, f := range s.Files {
		if ostree.Classify(f.Rel).Phase != ostree.PhaseRefs {
			continue
		}
		data, err := os.ReadFile(f.Path)
		if err != nil {
			return err
		}
		if err := g.Check(RefName(f.Rel), strings.TrimSpace(string(data))); err != nil {
			refused = append(refused, err)
		}
	}
	if len(refused) == 0 {
		return nil
	}
	kept := s.Files[:0]
	for _, f := range s.Files {
		switch ostree.Classify(f.Rel).Phase {
		case ostree.PhaseRefs, ostree.PhaseSummary, ostree.PhaseSummarySig:
			s.Protected[f.Rel] = true
		default:
			kept = append(kept, f)
		}
	}
	s.Files = kept
	s.Refused = append(s.Refused, refused...)
	return nil
}
