package mirror_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/mirror"
	"github.com/projectatomic/atomic-site/internal/store/local"
	"github.com/projectatomic/atomic-site/internal/testkit/synth"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// releaseMirror writes a signed release whose artifacts all exist with the
// sizes and sha256 its manifest says, and returns the directory and the
// artifacts' paths below it.
func releaseMirror(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	b := synth.Build("stable", "28.1", time.Date(2018, 5, 8, 0, 0, 0, 0, time.UTC))
	var rels []string
	for f := range b.Files() {
		content := []byte("image " + f.Location)
		sum := sha256.Sum256(content)
		size := int64(len(content))
		f.Size, f.SHA256, f.Signature = &size, hex.EncodeToString(sum[:]), ""
		rel := filepath.Join("stable", filepath.FromSlash(f.Location))
		os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, rel), content, 0o644); err != nil {
			t.Fatal(err)
		}
		rels = append(rels, rel)
	}
	signer, err := trust.LoadSigner(filepath.Join("..", "..", "testdata", "test-signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.WriteBuild(dir, signer, b); err != nil {
		t.Fatal(err)
	}
	return dir, rels
}

func verify(t *testing.T, dir string, opts mirror.VerifyOptions) []string {
	t.Helper()
	st, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := mirror.Verify(context.Background(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep.Problems
}

func TestVerifyReleases(t *testing.T) {
	keys, err := trust.LoadKeys(filepath.Join("..", "..", "testdata", "keys"))
	if err != nil {
		t.Fatal(err)
	}
	dir, rels := releaseMirror(t)
	if p := verify(t, dir, mirror.VerifyOptions{Keys: keys, Deep: true, Jobs: 4}); len(p) != 0 {
		t.Fatalf("a whole mirror: problems %q", p)
	}

	missing, short, corrupt := rels[0], rels[1], rels[2]
	os.Remove(filepath.Join(dir, missing))
	os.WriteFile(filepath.Join(dir, short), []byte("x"), 0o644)
	data, _ := os.ReadFile(filepath.Join(dir, corrupt))
	data[0] ^= 1
	os.WriteFile(filepath.Join(dir, corrupt), data, 0o644)
	key := func(rel string) string { return filepath.ToSlash(rel) }

	shallow := verify(t, dir, mirror.VerifyOptions{Jobs: 4})
	want := []string{
		key(missing) + ": missing (named by stable/28.1.json)",
		key(short) + ": 1 bytes, the manifest says ",
	}
	for _, w := range want {
		if !slices.ContainsFunc(shallow, func(p string) bool { return strings.HasPrefix(p, w) }) {
			t.Errorf("without --deep: problems %q, want one starting %q", shallow, w)
		}
	}
	if len(shallow) != len(want) {
		t.Errorf("without --deep: %d problems %q, want %d", len(shallow), shallow, len(want))
	}
	deep := verify(t, dir, mirror.VerifyOptions{Keys: keys, Deep: true, Jobs: 4})
	if !slices.ContainsFunc(deep, func(p string) bool {
		return strings.HasPrefix(p, key(corrupt)+": sha256 ") && strings.HasSuffix(p, "(named by stable/28.1.json)")
	}) || len(deep) != 3 {
		t.Errorf("with --deep: problems %q, want the corrupt file too", deep)
	}

	// A manifest changed after signing is reported, naming it.
	m := filepath.Join(dir, "stable", "28.1.json")
	mdata, _ := os.ReadFile(m)
	os.WriteFile(m, append(mdata, ' '), 0o644)
	if p := verify(t, dir, mirror.VerifyOptions{Keys: keys}); !slices.ContainsFunc(p, func(s string) bool {
		return strings.HasPrefix(s, "stable/28.1.json: ")
	}) {
		t.Errorf("tampered manifest: problems %q, want one naming stable/28.1.json", p)
	}
}
