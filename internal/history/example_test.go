package history

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/testkit/synth"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// The key the site recognizes as the example's is the one that signs the
// example history; a history signed with it is marked, any other is not.
func TestExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "keys", "test.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != examplePublicKey {
		t.Fatal("examplePublicKey differs from testdata/keys/test.pub")
	}
	h, err := Load(context.Background(), Options{
		Manifests: filepath.Join("..", "..", "testdata", "manifests"),
		Keys:      filepath.Join("..", "..", "testdata", "keys"),
		Config:    filepath.Join("..", "..", "site", "sitegen.toml"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !h.State.Example {
		t.Error("the example history is not marked as the example")
	}

	priv, pub, err := trust.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keys, manifests := filepath.Join(dir, "keys"), filepath.Join(dir, "manifests")
	os.MkdirAll(keys, 0o755)
	os.WriteFile(filepath.Join(keys, "release.pub"), pub, 0o644)
	os.WriteFile(filepath.Join(dir, "release.key"), priv, 0o600)
	signer, err := trust.LoadSigner(filepath.Join(dir, "release.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.WriteBuild(manifests, signer, synth.Build("stable", "28.20180604.0", time.Date(2018, 6, 4, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	h, err = Load(context.Background(), Options{Manifests: manifests, Keys: keys, Config: filepath.Join("..", "..", "site", "sitegen.toml"),
		Now: time.Date(2018, 6, 5, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if h.State.Example {
		t.Error("a history signed with another key is marked as the example")
	}
}
