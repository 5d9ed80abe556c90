package promote

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/config"
	"github.com/projectatomic/atomic-site/internal/history"
	"github.com/projectatomic/atomic-site/internal/lockfile"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/release"
)

// LockPath is the lock of a manifests directory: beside it, so that the
// directory holds only manifests.
func LockPath(manifests string) string {
	return filepath.Clean(manifests) + ".promote-lock"
}

// ErrRefused marks a promotion refused after a candidate was chosen: it
// was revoked or changed while being promoted, or its commit is not in the
// ostree repository.
var ErrRefused = errors.New("promotion refused")

// RunOptions say what a run does beyond the decision.
type RunOptions struct {
	From, To string
	Force    bool
	DryRun   bool
	// History says where the signed history is; Now is the run's time.
	History history.Options
	// Signer signs the new manifest (not needed for a dry run).
	Signer catalog.Signer
	// OSTree, when Repo is set, is the archive repository whose release
	// ref moves to the promoted commit once the manifest is written.
	OSTree OSTreeOptions

	// beforeWrite runs after the candidate is chosen and before anything
	// is written (tests use it to revoke the candidate meanwhile).
	beforeWrite func()
}

// OSTreeOptions move the release ref with the ostree command.
type OSTreeOptions struct {
	Repo string
	// Ref is the release stream's ref; empty means the ref of the
	// release stream's newest build.
	Ref        string
	GPGSign    string // key id for ostree summary --gpg-sign
	GPGHomedir string
}

// Result is what a run did.
type Result struct {
	Decision *Decision
	Options  Options
	Path     string // the new manifest (Promoted)
	Manifest []byte
}

// Run promotes if a promotion is due: under a lock beside the manifests
// directory, after verifying every manifest as a build does. It writes
// and signs <manifests>/<to>/<release>.json and, with OSTree.Repo, moves
// the release ref there after checking the commit is in the repository.
// Running it again does nothing new: the release day is then done.
func Run(ctx context.Context, opts RunOptions) (*Result, error) {
	if !opts.DryRun {
		unlock, err := lockfile.Acquire(LockPath(opts.History.Manifests), "promote")
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	h, err := history.Load(ctx, opts.History)
	if err != nil {
		return nil, err
	}
	if err := knownStreams(h.Config, opts.From, opts.To); err != nil {
		return nil, err
	}
	popts := Options{
		From: opts.From, To: opts.To, Now: h.State.Now, Force: opts.Force,
		Policy:          h.Config.Promote.StalePolicy,
		WithdrawnPolicy: h.Config.Promote.WithdrawnPolicy,
	}
	if e := h.Config.Promote.Epoch; e != nil {
		popts.Epoch = e.UTC()
	}
	d, err := Decide(h.State, popts)
	if err != nil {
		return nil, err
	}
	res := &Result{Decision: d, Options: popts}
	if d.Outcome != Promoted {
		return res, nil
	}
	ref := opts.OSTree.Ref
	if ref == "" {
		ref = releaseRef(h.State.Stream(opts.To))
	}
	if opts.OSTree.Repo != "" && ref == "" {
		return nil, fmt.Errorf("%w: %s has no build naming its ostree ref yet: give --ref", ErrRefused, opts.To)
	}
	res.Manifest, err = Manifest(d.Candidate, opts.To, ref, h.Config, popts.Now)
	if err != nil {
		return nil, err
	}
	res.Path = filepath.Join(opts.History.Manifests, opts.To, d.Candidate.Release+".json")
	if opts.DryRun {
		return res, nil
	}
	if opts.OSTree.Repo != "" {
		if err := checkCommit(ctx, opts.OSTree.Repo, d.Candidate.OSTree, ref); err != nil {
			return nil, err
		}
	}
	if opts.beforeWrite != nil {
		opts.beforeWrite()
	}
	if err := stillGood(ctx, opts.History, d.Candidate); err != nil {
		return nil, err
	}
	if err := catalog.WriteSigned(res.Path, res.Manifest, opts.Signer); err != nil {
		return nil, err
	}
	if opts.OSTree.Repo != "" {
		if err := moveRef(ctx, opts.OSTree, ref, d.Candidate.OSTree.Commit); err != nil {
			return res, fmt.Errorf("%s is written and signed, but the ref did not move: %w", res.Path, err)
		}
	}
	return res, nil
}

// ErrUnknownStream marks a --from or --to that names no stream of the site
// config: a typo that would otherwise publish a stream of its own.
var ErrUnknownStream = errors.New("not a stream of the site config")

// knownStreams checks that every name is a stream of the config.
func knownStreams(cfg *config.Config, names ...string) error {
	var known []string
	for _, s := range cfg.Streams {
		known = append(known, s.Name)
	}
	for _, n := range names {
		if !slices.Contains(known, n) {
			return fmt.Errorf("%q: %w (known: %s)", n, ErrUnknownStream, strings.Join(known, ", "))
		}
	}
	return nil
}

// releaseRef is the ostree ref of the stream's newest build that names one.
func releaseRef(st *release.Stream) string {
	if st == nil {
		return ""
	}
	for _, b := range st.Builds {
		if b.OSTree != nil {
			return b.OSTree.Ref
		}
	}
	return ""
}

// stillGood verifies the history again, just before writing: the candidate
// must still be there, with the same bytes, and not revoked.
func stillGood(ctx context.Context, opts history.Options, c *release.Build) error {
	h, err := history.Load(ctx, opts)
	if err != nil {
		return err
	}
	if st := h.State.Stream(c.Stream); st != nil {
		for _, b := range st.Builds {
			switch {
			case b.Release != c.Release:
			case b.SHA256 != c.SHA256:
				return fmt.Errorf("%w: %s changed while being promoted", ErrRefused, b.Name)
			case b.Revoked():
				return fmt.Errorf("%w: %s/%s was revoked while being promoted: %s", ErrRefused, c.Stream, c.Release, b.Revocation.Reason)
			default:
				return nil
			}
		}
	}
	return fmt.Errorf("%w: %s is gone", ErrRefused, c.Name)
}

func ostree(ctx context.Context, repo string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "ostree", append([]string{"--repo=" + repo}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ostree %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// checkCommit checks that the candidate's commit is in the repository and
// may be pulled under ref: a commit bound to other refs only
// (ostree.ref-binding, which ostree commit -b writes) is refused by every
// client that pulls it under ref.
func checkCommit(ctx context.Context, repo string, o *manifest.OSTree, ref string) error {
	if o == nil {
		return fmt.Errorf("%w: the candidate names no ostree commit, and --ostree-repo was given", ErrRefused)
	}
	bindings, err := ostree(ctx, repo, "show", "--print-metadata-key=ostree.ref-binding", o.Commit)
	switch {
	case err != nil && strings.Contains(err.Error(), "No such metadata key"):
		return nil // not bound: any ref may name it
	case err != nil:
		return fmt.Errorf("%w: commit %s is not in %s: %v", ErrRefused, o.Commit, repo, err)
	case bindings == "@as []" || strings.Contains(bindings, "'"+ref+"'"):
		return nil
	}
	return fmt.Errorf("%w: commit %s is bound to %s only (ostree.ref-binding): clients would refuse it as %s; commit candidates with --bind-ref=%s",
		ErrRefused, o.Commit, bindings, ref, ref)
}

// moveRef points ref at commit and regenerates the summary.
func moveRef(ctx context.Context, o OSTreeOptions, ref, commit string) error {
	if _, err := ostree(ctx, o.Repo, "refs", "--force", "--create="+ref, commit); err != nil {
		return err
	}
	return summary(ctx, o)
}

// summary regenerates the repository's summary, signed when a key is
// given.
func summary(ctx context.Context, o OSTreeOptions) error {
	args := []string{"summary", "-u"}
	if o.GPGSign != "" {
		args = append(args, "--gpg-sign="+o.GPGSign)
	}
	if o.GPGHomedir != "" {
		args = append(args, "--gpg-homedir="+o.GPGHomedir)
	}
	_, err := ostree(ctx, o.Repo, args...)
	return err
}
