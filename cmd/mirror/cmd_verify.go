package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/cli"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/ostree"
	"github.com/projectatomic/atomic-site/internal/trust"
)

type verifyOptions struct {
	storeOptions
	against string
	deep    bool
	keys    string
}

func newVerifyCommand() *cobra.Command {
	var opts verifyOptions
	cmd := &cobra.Command{
		Use:   "verify DEST [--against SRC] [--deep]",
		Short: "Check a mirror: every ref's commit is there, every source object, and with --deep their content",
		Long: `Check a mirror and list every problem; exit non-zero if there is any.

For an ostree repository: every ref's commit is present. With --against
SRC, every file of the source is present with the right size. With
--deep, metadata objects (.commit, .dirtree, .dirmeta) are downloaded and
their sha256 checked against their names, and release images against
their manifests (with --keys, the manifests' signatures too).`,
		Args: cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.Context(), cmd, opts, args[0])
		},
	}
	opts.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.against, "against", "", "source to compare with: every file must be present with the right size")
	f.BoolVar(&opts.deep, "deep", false, "download metadata objects and images and check their sha256")
	f.StringVar(&opts.keys, "keys", "", "trusted keys: check release manifests' signatures")
	return cmd
}

func runVerify(ctx context.Context, cmd *cobra.Command, opts verifyOptions, dest string) error {
	dst, err := openDest(ctx, dest, opts.storeOptions)
	if err != nil {
		return err
	}
	listing := map[string]mirror.Object{}
	if err := dst.List(ctx, nil, func(o mirror.Object) error { listing[o.Key] = o; return nil }); err != nil {
		return fmt.Errorf("list %s: %w", dest, err)
	}
	var keys *trust.Keyring
	if opts.keys != "" {
		if keys, err = trust.LoadKeys(opts.keys); err != nil {
			return err
		}
	}
	v := &verifier{dst: dst, listing: listing, jobs: opts.jobs}
	_, isRepo := listing["config"]
	if isRepo {
		v.refs(ctx)
		if opts.deep {
			v.metadataObjects(ctx)
		}
	} else {
		v.releases(ctx, keys, opts.deep)
	}
	if opts.against != "" {
		src, err := mirror.Open(ctx, opts.against, keys)
		if err != nil {
			return err
		}
		v.against(src)
	}
	slices.Sort(v.problems)
	out := cmd.OutOrStdout()
	for _, p := range v.problems {
		fmt.Fprintln(out, p)
	}
	if len(v.problems) > 0 {
		return fmt.Errorf("%s: %d problems", dest, len(v.problems))
	}
	fmt.Fprintf(out, "%s: %d objects, no problems\n", dest, len(listing))
	return nil
}

type verifier struct {
	dst      destination
	listing  map[string]mirror.Object
	jobs     int
	mu       sync.Mutex
	problems []string
}

func (v *verifier) problem(format string, args ...any) {
	v.mu.Lock()
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
	v.mu.Unlock()
}

func (v *verifier) read(ctx context.Context, key string, limit int64) ([]byte, error) {
	r, err := v.dst.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, limit))
}

func (v *verifier) sum(ctx context.Context, key string) (string, error) {
	r, err := v.dst.Open(ctx, key)
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// refs checks that every ref names a commit that is present.
func (v *verifier) refs(ctx context.Context) {
	for key := range v.listing {
		if !strings.HasPrefix(key, "refs/") {
			continue
		}
		data, err := v.read(ctx, key, 4096)
		if err != nil {
			v.problem("%s: cannot read: %v", key, err)
			continue
		}
		sum := strings.TrimSpace(string(data))
		if !manifest.IsSHA256(sum) {
			v.problem("%s: %q is not a commit checksum", key, sum)
			continue
		}
		if _, ok := v.listing[ostree.CommitPath(sum)]; !ok {
			v.problem("%s: points at commit %s, which is missing", key, sum)
		}
	}
}

// each runs fn over keys with the verifier's parallelism.
func (v *verifier) each(keys []string, fn func(key string)) {
	ch := make(chan string)
	var wg sync.WaitGroup
	for range max(v.jobs, 1) {
		wg.Go(func() {
			for k := range ch {
				fn(k)
			}
		})
	}
	for _, k := range keys {
		ch <- k
	}
	close(ch)
	wg.Wait()
}

// metadataObjects downloads commits, dirtrees and dirmetas and checks that
// their sha256 is their name (true of metadata objects, not of .filez).
func (v *verifier) metadataObjects(ctx context.Context) {
	var keys []string
	for key := range v.listing {
		if _, typ, ok := ostree.ObjectChecksum(key); ok && (typ == "commit" || typ == "dirtree" || typ == "dirmeta") {
			keys = append(keys, key)
		}
	}
	v.each(keys, func(key string) {
		want, _, _ := ostree.ObjectChecksum(key)
		got, err := v.sum(ctx, key)
		switch {
		case err != nil:
			v.problem("%s: cannot read: %v", key, err)
		case got != want:
			v.problem("%s: content has sha256 %s", key, got)
		}
	})
}

// releases checks every manifest's artifacts: present, of the size the
// manifest says and, deep, of its sha256.
func (v *verifier) releases(ctx context.Context, keys *trust.Keyring, deep bool) {
	type check struct{ key, sha string }
	var deepChecks []check
	for key := range v.listing {
		if strings.Count(key, "/") != 1 || !strings.HasSuffix(key, ".json") {
			continue
		}
		data, err := v.read(ctx, key, 16<<20)
		if err != nil {
			v.problem("%s: cannot read: %v", key, err)
			continue
		}
		if keys != nil {
			sig, err := v.read(ctx, key+trust.SigSuffix, 1<<16)
			if err != nil {
				v.problem("%s: no signature: %v", key, err)
			} else if _, err := keys.Verify(data, sig); err != nil {
				v.problem("%s: %v", key, err)
			}
		}
		f, err := manifest.Parse(key, data)
		if err != nil {
			v.problem("%v", err)
			continue
		}
		b := f.Build
		if b == nil || b.Failed() {
			continue
		}
		for art := range b.Files() {
			if strings.Contains(art.Location, "://") {
				continue
			}
			k := path.Join(path.Dir(key), art.Location)
			o, ok := v.listing[k]
			switch {
			case !ok:
				v.problem("%s: named by %s, missing", k, key)
			case art.Size != nil && o.Size != *art.Size:
				v.problem("%s: %d bytes, %s says %d", k, o.Size, key, *art.Size)
			case deep:
				deepChecks = append(deepChecks, check{k, art.SHA256})
			}
		}
	}
	byKey := map[string]string{}
	var ks []string
	for _, c := range deepChecks {
		byKey[c.key] = c.sha
		ks = append(ks, c.key)
	}
	v.each(ks, func(k string) {
		got, err := v.sum(ctx, k)
		switch {
		case err != nil:
			v.problem("%s: cannot read: %v", k, err)
		case got != byKey[k]:
			v.problem("%s: sha256 %s, manifest says %s", k, got, byKey[k])
		}
	})
}

// against checks that every source file is present with the right size.
func (v *verifier) against(src *mirror.Source) {
	for _, f := range src.Files {
		o, ok := v.listing[f.Rel]
		switch {
		case !ok:
			v.problem("%s: in the source, missing", f.Rel)
		case o.Size != f.Size:
			v.problem("%s: %d bytes, the source has %d", f.Rel, o.Size, f.Size)
		case f.Mutable && o.SHA256 != "" && o.SHA256 != f.SHA256:
			v.problem("%s: differs from the source (sha256 %s, source %s)", f.Rel, o.SHA256, f.SHA256)
		}
	}
}
