package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/ostree"
	"github.com/projectatomic/atomic-site/internal/store"
)

// TraceKey is the trace file: written last by every sync that completed,
// so that anyone can tell how fresh a mirror is (as Debian's mirror
// traces do).
const TraceKey = store.StateDir + "trace.json"

// Trace says what a mirror held after its last complete sync.
type Trace struct {
	Time        time.Time   `json:"time"`
	Tool        string      `json:"tool"`
	Host        string      `json:"host"`
	Destination string      `json:"destination,omitempty"` // an s3:// URL; a local directory is not named
	Source      SourceState `json:"source"`
	// HeldBack are refs the ref gate did not let move, and why: the
	// mirror stays on the refs (and summary) it had.
	HeldBack []HeldRef `json:"held_back,omitempty"`
}

// SourceState identifies the content of a source: an ostree repository's
// summary and refs, or a release directory's releases.
type SourceState struct {
	Kind          string            `json:"kind"`
	Path          string            `json:"path,omitempty"` // the URL of a remote source
	SummarySHA256 string            `json:"summary-sha256,omitempty"`
	Refs          map[string]string `json:"refs,omitempty"`     // ref → commit
	Releases      []string          `json:"releases,omitempty"` // stream/release
	// Upstream is the trace of the mirror this one copies, as read at
	// UpstreamRead: how far behind the primary that mirror was.
	Upstream     json.RawMessage `json:"upstream-trace,omitempty"`
	UpstreamRead time.Time       `json:"upstream-read,omitzero"`
}

// State describes what the source holds now.
func (s *Source) State() (SourceState, error) {
	// A remote source is named by its URL; a local one by nothing, as
	// the trace is public and this host's paths are not.
	st := SourceState{Kind: s.Kind, Path: s.URL, Upstream: s.Upstream}
	if s.URL != "" {
		st.UpstreamRead = s.UpstreamRead
	}
	for _, f := range s.Files {
		switch {
		case s.Kind == "ostree" && f.Rel == "summary":
			st.SummarySHA256 = f.SHA256
		case s.Kind == "ostree" && ostree.Classify(f.Rel).Phase == ostree.PhaseRefs:
			sum, err := f.refCommit()
			if err != nil {
				return st, err
			}
			if st.Refs == nil {
				st.Refs = map[string]string{}
			}
			st.Refs[RefName(f.Rel)] = sum
		case s.Kind != "ostree" && f.Phase == releaseManifests && strings.Count(f.Rel, "/") == 1:
			st.Releases = append(st.Releases, strings.TrimSuffix(f.Rel, path.Ext(f.Rel)))
		}
	}
	slices.Sort(st.Releases)
	return st, nil
}

// refCommit reads a ref file's commit. Content that is not one is never
// repeated in the error: a ref may be a link to any file of the source.
func (f *File) refCommit() (string, error) {
	data, err := f.content()
	if err != nil {
		return "", err
	}
	sum := strings.TrimSpace(string(data))
	if !manifest.IsSHA256(sum) {
		return "", fmt.Errorf("%s: not a ref: its %d bytes are not a commit checksum (is it a link to another file?)", f.Rel, len(data))
	}
	return sum, nil
}

// RefName is the ostree name of a ref file: refs/heads/NAME and
// refs/mirrors/NAME are NAME, any other refs/X is X.
func RefName(key string) string {
	for _, p := range []string{"refs/heads/", "refs/mirrors/", "refs/"} {
		if name, ok := strings.CutPrefix(key, p); ok {
			return name
		}
	}
	return key
}

// ReadTrace reads a destination's trace; nil if it has none.
func ReadTrace(ctx context.Context, dst Opener) (*Trace, error) {
	r, err := dst.Open(ctx, TraceKey)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var t Trace
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err == nil {
		err = json.Unmarshal(data, &t)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", TraceKey, err)
	}
	return &t, nil
}

// Behind says how a mirror's trace differs from what the source holds
// now: one line per ref or release, none when the mirror is current.
func (t *Trace) Behind(now SourceState) []string {
	var diffs []string
	had := t.Source
	for _, ref := range slices.Sorted(maps.Keys(now.Refs)) {
		switch old, ok := had.Refs[ref]; {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("ref %s: not on the mirror yet (source %s)", ref, short(now.Refs[ref])))
		case old != now.Refs[ref]:
			diffs = append(diffs, fmt.Sprintf("ref %s: mirror %s, source %s", ref, short(old), short(now.Refs[ref])))
		}
	}
	for _, rel := range now.Releases {
		if !slices.Contains(had.Releases, rel) {
			diffs = append(diffs, "release "+rel+": not on the mirror yet")
		}
	}
	if len(diffs) == 0 && had.SummarySHA256 != now.SummarySHA256 {
		diffs = append(diffs, "summary: differs from the source's")
	}
	return diffs
}

func short(commit string) string { return commit[:min(len(commit), 12)] }
