// Package ostree knows the layout of an ostree repository in archive mode:
// which files are content-addressed objects, which are mutable pointers
// (refs, summary, config), and in what order they must be published so
// that a client never sees a pointer to something not yet there.
package ostree

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Phase is a publishing step. Files of a phase may go up in any order and
// in parallel; a phase starts only when every file of the previous one is
// published.
type Phase int

// The phases, in publishing order.
const (
	PhaseFiles           Phase = iota // .filez: file content
	PhaseDirs                         // .dirtree, .dirmeta
	PhaseCommits                      // .commit, .commitmeta
	PhaseDeltaParts                   // static delta parts
	PhaseSuperblocks                  // static delta superblocks, after their parts
	PhaseDeltaIndex                   // delta-indexes/
	PhaseOther                        // anything else the repository holds
	PhaseConfig                       // config
	PhaseRefs                         // refs/
	PhaseSummaries                    // summaries/: an indexed summary's parts, named by digest
	PhaseSummary                      // summary
	PhaseSummarySig                   // summary.sig, right after the summary it signs
	PhaseSummaryIndex                 // summary.idx, after the parts it names
	PhaseSummaryIndexSig              // summary.idx.sig
	NumPhases
)

// FirstPointer is the first phase whose files name commits: before it,
// every commit a ref names must be whole at the destination.
const FirstPointer = PhaseRefs

// FirstSigned is the first phase of the files that are signed in a second
// file (summary and summary.sig, summary.idx and summary.idx.sig): they
// are read before the first is sent, and sent back to back.
const FirstSigned = PhaseSummary

var phaseNames = [...]string{"file objects", "dirtree/dirmeta", "commits", "delta parts", "delta superblocks",
	"delta indexes", "other", "config", "refs", "indexed summaries", "summary", "summary.sig",
	"summary.idx", "summary.idx.sig"}

func (p Phase) String() string {
	if p >= 0 && int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("phase %d", int(p))
}

// Class says how to publish one file.
type Class struct {
	Phase Phase
	// Mutable files can change in place (refs, summary, config, commit
	// metadata, delta indexes): they are compared by content, not by name
	// and size, and are cached briefly.
	Mutable bool
	// Skip is set for what must never be published: tmp/, state/, locks.
	Skip bool
}

// published are the top-level names whose files clients read, beside
// summary and its kin (summary.sig, summary.idx, summaries/).
var published = map[string]bool{"config": true, "objects": true, "refs": true, "deltas": true,
	"delta-indexes": true, "summaries": true, "extensions": true}

// Classify tells how to publish the file at rel, a slash path relative to
// the repository root.
func Classify(rel string) Class {
	first, rest, _ := strings.Cut(rel, "/")
	base := path.Base(rel)
	switch {
	case !published[first] && !strings.HasPrefix(first, "summary") || base == ".lock" || strings.HasSuffix(base, ".lock"):
		// The repository's own state (tmp/, state/,
		// uncompressed-objects-cache/, locks) is for its writer alone.
		return Class{Skip: true}
	case rel == "config":
		return Class{Phase: PhaseConfig, Mutable: true}
	case rel == "summary":
		return Class{Phase: PhaseSummary, Mutable: true}
	case rel == "summary.sig":
		return Class{Phase: PhaseSummarySig, Mutable: true}
	case rel == "summary.idx":
		return Class{Phase: PhaseSummaryIndex, Mutable: true}
	case rel == "summary.idx.sig":
		return Class{Phase: PhaseSummaryIndexSig, Mutable: true}
	case first == "summaries" && rest != "":
		return Class{Phase: PhaseSummaries}
	case first == "refs":
		return Class{Phase: PhaseRefs, Mutable: true}
	case first == "delta-indexes":
		return Class{Phase: PhaseDeltaIndex, Mutable: true}
	case first == "deltas":
		if base == "superblock" {
			return Class{Phase: PhaseSuperblocks}
		}
		return Class{Phase: PhaseDeltaParts}
	case first == "objects" && rest != "":
		switch path.Ext(base) {
		case ".filez", ".file":
			return Class{Phase: PhaseFiles}
		case ".dirtree", ".dirmeta":
			return Class{Phase: PhaseDirs}
		case ".commit":
			return Class{Phase: PhaseCommits}
		case ".commitmeta":
			// Signatures are added to it after the commit exists.
			return Class{Phase: PhaseCommits, Mutable: true}
		case ".commitpartial":
			return Class{Skip: true}
		}
	}
	return Class{Phase: PhaseOther, Mutable: true}
}

// IsRepo reports whether dir is an ostree repository in an archive mode,
// the only mode that can be served over HTTP. A repository in another mode
// is an error that says so.
func IsRepo(dir string) (bool, error) {
	data, err := os.ReadFile(filepath.Join(dir, "config"))
	if err != nil {
		return false, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "objects")); err != nil {
		return false, nil
	}
	mode := ConfigMode(data)
	switch mode {
	case "archive", "archive-z2":
		return true, nil
	case "":
		return false, fmt.Errorf("%s: not an ostree repository config (no [core] mode)", filepath.Join(dir, "config"))
	default:
		return false, fmt.Errorf("%s: repository mode %q cannot be served over HTTP; mirror an archive-mode repository", filepath.Join(dir, "config"), mode)
	}
}

// ConfigMode reads core.mode from a repository's config (a key file).
func ConfigMode(config []byte) string {
	mode, inCore := "", false
	sc := bufio.NewScanner(bytes.NewReader(config))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			inCore = line == "[core]"
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && inCore && strings.TrimSpace(k) == "mode" {
			mode = strings.TrimSpace(v)
		}
	}
	return mode
}

// ObjectChecksum returns the checksum an object's path names, and its type
// (commit, dirtree, …), for objects/XX/YYYY.type.
func ObjectChecksum(rel string) (sum, typ string, ok bool) {
	dir, file := path.Split(rel)
	if !strings.HasPrefix(dir, "objects/") || len(dir) != len("objects/xx/") {
		return "", "", false
	}
	name, typ, _ := strings.Cut(file, ".")
	sum = dir[len("objects/"):len("objects/xx")] + name
	if len(sum) != 64 {
		return "", "", false
	}
	return sum, typ, true
}

// CommitPath is where a commit object lives.
func CommitPath(sum string) string {
	return "objects/" + sum[:2] + "/" + sum[2:] + ".commit"
}
