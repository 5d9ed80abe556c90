package mirror

import (
	"errors"
	"fmt"

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
	return errors.New(g.reason(rc))
}

func (g *Gate) reason(rc refCommit) string {
	why, ok := g.why[rc]
	if !ok {
		why = "no signed, released manifest names this commit for this ref"
	}
	return fmt.Sprintf("ref %s → commit %s: %s", rc.ref, rc.commit, why)
}

// HeldRef is a ref the gate held back, and why.
type HeldRef struct {
	Ref    string `json:"ref"`
	Commit string `json:"commit"`
	Reason string `json:"reason"`
}

// ErrHeldBack is wrapped by the error of a run that published everything
// but the refs (and the summary that lists them) the gate held back: the
// mirror is whole, and stays on the refs it had.
var ErrHeldBack = errors.New("held back by the ref gate")

// ApplyGate checks every ref of an ostree source. Where any ref fails, no
// ref and no summary is published: objects may go up, pointers may not
// (the summary lists every ref, and is signed whole). The refs held back
// are the source's HeldBack, and the destination's own refs and summary
// are protected from --delete.
func (s *Source) ApplyGate(g *Gate) error {
	if s.Kind != "ostree" {
		return fmt.Errorf("%s: --manifests gates the refs of an ostree repository, and this is a directory of release files", s.Dir)
	}
	var held []HeldRef
	for _, f := range s.Files {
		if ostree.Classify(f.Rel).Phase != ostree.PhaseRefs {
			continue
		}
		sum, err := f.refCommit()
		if err != nil {
			return err
		}
		rc := refCommit{RefName(f.Rel), sum}
		if !g.ok[rc] {
			held = append(held, HeldRef{Ref: rc.ref, Commit: rc.commit, Reason: g.reason(rc)})
		}
	}
	if len(held) == 0 {
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
	s.HeldBack = held
	return nil
}

// HeldBackError is the error of a run that held refs back: one line each.
func HeldBackError(held []HeldRef) error {
	var errs []error
	for _, h := range held {
		errs = append(errs, fmt.Errorf("%w: %s", ErrHeldBack, h.Reason))
	}
	return errors.Join(errs...)
}
