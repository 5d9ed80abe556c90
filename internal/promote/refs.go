package promote

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/projectatomic/atomic-site/internal/history"
	"github.com/projectatomic/atomic-site/internal/release"
)

// RefsOptions say which repository's refs follow which history.
type RefsOptions struct {
	History history.Options
	OSTree  OSTreeOptions // Repo, GPGSign, GPGHomedir; Ref is not used
	DryRun  bool
}

// RefChange is what Refs did, or would do, to one ref.
type RefChange struct {
	Ref      string
	From, To string // commits; "" for a ref created or deleted
	Build    *release.Build
	// Why is set for a ref deleted: its stream has no good build left.
	Why string
}

func (c RefChange) String() string {
	switch {
	case c.To == "":
		return fmt.Sprintf("deleted %s (was %s): %s", c.Ref, c.From, c.Why)
	case c.From == "":
		return fmt.Sprintf("created %s at %s (%s/%s)", c.Ref, c.To, c.Build.Stream, c.Build.Release)
	}
	return fmt.Sprintf("moved %s from %s to %s (%s/%s)", c.Ref, c.From, c.To, c.Build.Stream, c.Build.Release)
}

// Refs points each stream's ostree ref at the commit of the stream's
// current build, as the verified manifests say, in an archive repository
// the release bot owns: a candidate that passed its tests moves its ref,
// one that failed moves nothing, and a withdrawn build's ref goes back to
// the build offered in its place. Only then is the summary regenerated
// (signed with GPGSign), once, and only if a ref changed: running it again
// changes nothing. A ref whose stream has no good build left is deleted,
// so that no client is pointed at a withdrawn commit.
func Refs(ctx context.Context, opts RefsOptions) ([]RefChange, error) {
	h, err := history.Load(ctx, opts.History)
	if err != nil {
		return nil, err
	}
	want := map[string]*release.Build{} // ref → the build it must name
	orphans := map[string]string{}      // ref → why no build may be named
	for _, st := range h.State.Streams {
		if b := st.Current; b != nil && b.OSTree != nil {
			if prev, ok := want[b.OSTree.Ref]; ok {
				return nil, fmt.Errorf("%s and %s both name ostree ref %s as current", prev.Name, b.Name, b.OSTree.Ref)
			}
			want[b.OSTree.Ref] = b
			continue
		}
		for _, b := range st.Builds {
			if b.OSTree != nil && st.Current == nil {
				orphans[b.OSTree.Ref] = fmt.Sprintf("stream %s has no good build left", st.Name)
			}
		}
	}
	var changes []RefChange
	for _, ref := range sortedKeys(want) {
		b := want[ref]
		have, err := revParse(ctx, opts.OSTree.Repo, ref)
		if err != nil {
			return nil, err
		}
		if have == b.OSTree.Commit {
			continue
		}
		if err := checkCommit(ctx, opts.OSTree.Repo, b.OSTree, ref); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name, err)
		}
		changes = append(changes, RefChange{Ref: ref, From: have, To: b.OSTree.Commit, Build: b})
	}
	for _, ref := range sortedKeys(orphans) {
		if _, ok := want[ref]; ok {
			continue
		}
		have, err := revParse(ctx, opts.OSTree.Repo, ref)
		if err != nil {
			return nil, err
		}
		if have != "" {
			changes = append(changes, RefChange{Ref: ref, From: have, Why: orphans[ref]})
		}
	}
	if opts.DryRun || len(changes) == 0 {
		return changes, nil
	}
	for _, c := range changes {
		args := []string{"refs", "--force", "--create=" + c.Ref, c.To}
		if c.To == "" {
			args = []string{"refs", "--delete", c.Ref}
		}
		if _, err := ostree(ctx, opts.OSTree.Repo, args...); err != nil {
			return nil, err
		}
	}
	return changes, summary(ctx, opts.OSTree)
}

// revParse is the commit ref names in repo, or "" for no such ref.
func revParse(ctx context.Context, repo, ref string) (string, error) {
	out, err := ostree(ctx, repo, "rev-parse", ref)
	if err != nil {
		if strings.Contains(err.Error(), "not found") || strings.Contains(err.Error(), "No such") {
			return "", nil
		}
		return "", err
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
