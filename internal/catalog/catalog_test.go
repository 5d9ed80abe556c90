package catalog_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/catalog"
	"github.com/projectatomic/atomic-site/internal/trust"
)

const example = "../../testdata"

func keyring(t *testing.T) *trust.Keyring {
	t.Helper()
	kr, err := trust.LoadKeys(filepath.Join(example, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// copyExample copies the signed example manifests to a temp dir.
func copyExample(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(filepath.Join(example, "manifests"))); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestLoadExample(t *testing.T) {
	cat, err := catalog.Load(context.Background(), filepath.Join(example, "manifests"), keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Builds) != 7 || len(cat.Revocations) != 1 {
		t.Fatalf("got %d builds, %d revocations; want 7 and 1", len(cat.Builds), len(cat.Revocations))
	}
	first := cat.Builds[0]
	if first.Path != "stable/28.20180425.0.json" || first.Key != "test.pub" || len(first.SHA256) != 64 {
		t.Errorf("first build = %s by %s (%s)", first.Path, first.Key, first.SHA256)
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, dir string)
		want   []string
		is     error
	}{
		{"one byte changed", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "stable", "28.20180508.0.json")
			data, _ := os.ReadFile(p)
			data[len(data)/2] ^= 1
			write(t, p, data)
		}, []string{"stable/28.20180508.0.json: signature does not verify"}, trust.ErrBadSignature},
		{"unsigned", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "testing", "28.20180515.1.json.sig"))
		}, []string{"testing/28.20180515.1.json: no signature file 28.20180515.1.json.sig"}, trust.ErrUnsigned},
		{"garbage signature", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "testing", "28.20180515.1.json.sig"), []byte("%%%"))
		}, []string{"testing/28.20180515.1.json: malformed signature: not base64"}, trust.ErrMalformed},
		{"signature of another file", func(t *testing.T, dir string) {
			sig, _ := os.ReadFile(filepath.Join(dir, "testing", "28.20180529.1.json.sig"))
			write(t, filepath.Join(dir, "testing", "28.20180515.1.json.sig"), sig)
		}, []string{"testing/28.20180515.1.json: signature does not verify"}, trust.ErrBadSignature},
		{"signed file in another stream's directory", func(t *testing.T, dir string) {
			for _, ext := range []string{"", ".sig"} {
				data, _ := os.ReadFile(filepath.Join(dir, "testing", "28.20180515.1.json"+ext))
				write(t, filepath.Join(dir, "stable", "28.20180515.1.json"+ext), data)
			}
		}, []string{`stable/28.20180515.1.json: stream: "testing" does not match its directory "stable"`}, nil},
		{"manifest outside a stream directory", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "x.json"), []byte("{}"))
		}, []string{"x.json: not inside a stream directory"}, nil},
		{"a README beside the streams", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "README"), []byte("notes"))
		}, []string{"README: not a stream directory", "--ignore README"}, nil},
		{"a backup copy", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "stable", "28.20180508.0.json.bak"), []byte("{}"))
		}, []string{"stable/28.20180508.0.json.bak: not a manifest or a signature"}, nil},
		{"an editor's backup", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "stable", "28.20180508.0.json~"), []byte("{}"))
		}, []string{"stable/28.20180508.0.json~: not a manifest or a signature"}, nil},
		{"a signature outside a stream directory", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "x.json.sig"), []byte("x"))
		}, []string{"x.json.sig: not a stream directory"}, nil},
		{"every bad file is named", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "testing", "28.20180515.1.json.sig"))
			os.Remove(filepath.Join(dir, "stable", "28.20180425.0.json.sig"))
		}, []string{"testing/28.20180515.1.json", "stable/28.20180425.0.json"}, trust.ErrUnsigned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyExample(t)
			tt.change(t, dir)
			_, err := catalog.Load(context.Background(), dir, keyring(t))
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

// A directory inside a stream's holds its artifacts and is not read; a
// name matching an --ignore pattern is left alone, by name or by path.
func TestLoadArtifactsAndIgnored(t *testing.T) {
	dir := copyExample(t)
	img := filepath.Join(dir, "stable", "28.20180508.0", "x86_64")
	os.MkdirAll(img, 0o755)
	write(t, filepath.Join(img, "Fedora-AtomicHost-28.qcow2"), []byte("an image"))
	write(t, filepath.Join(img, "Fedora-AtomicHost-28.qcow2.sig"), []byte("its signature"))
	if _, err := catalog.Load(context.Background(), dir, keyring(t)); err != nil {
		t.Fatalf("artifacts in a stream's subdirectory: %v", err)
	}
	write(t, filepath.Join(dir, "README"), []byte("notes"))
	write(t, filepath.Join(dir, "stable", "NOTES.txt"), []byte("notes"))
	l := catalog.NewLoader(keyring(t))
	l.Ignore = []string{"README", "stable/*.txt"}
	if _, err := l.Load(context.Background(), dir); err != nil {
		t.Fatalf("ignored files: %v", err)
	}
	l.Ignore = []string{"README"}
	if _, err := l.Load(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "stable/NOTES.txt") {
		t.Errorf("a file no pattern matches: %v, want it named", err)
	}
}

// Dot files are temporary or editor files, ours included, and are left
// alone even when they end in .json: each of these would fail to verify.
func TestLoadIgnoresDotFiles(t *testing.T) {
	dir := copyExample(t)
	want, err := catalog.Load(context.Background(), dir, keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		"stable/.28.20180425.0.json.tmp-123", // an atomicfile write under way
		"stable/.28.20180425.0.json",         // a dot file that ends in .json
		"stable/.28.20180425.0.json.sig",
		".hidden/x.json", // a dot directory
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		write(t, p, []byte("half"))
	}
	got, err := catalog.Load(context.Background(), dir, keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Signed()) != len(want.Signed()) {
		t.Errorf("loaded %d files beside dot files, %d without", len(got.Signed()), len(want.Signed()))
	}
}

func TestLoadMissingDir(t *testing.T) {
	_, err := catalog.Load(context.Background(), filepath.Join(t.TempDir(), "nope"), keyring(t))
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err = %v, want it to name the directory", err)
	}
}

func write(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

type countingVerifier struct {
	catalog.Verifier
	n atomic.Int64
}

func (c *countingVerifier) Verify(data, sig []byte) (string, error) {
	c.n.Add(1)
	return c.Verifier.Verify(data, sig)
}

// A Loader verifies again only what changed, and a change that breaks a
// signature is caught on the next load.
func TestLoaderRemembers(t *testing.T) {
	dir := copyExample(t)
	v := &countingVerifier{Verifier: keyring(t)}
	l := catalog.NewLoader(v)
	if _, err := l.Load(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	if got := v.n.Load(); got != 8 {
		t.Fatalf("first load verified %d files, want 8", got)
	}
	p := filepath.Join(dir, "testing", "28.20180604.1.json")
	data, _ := os.ReadFile(p)
	data[50] ^= 1
	write(t, p, data)
	_, err := l.Load(context.Background(), dir)
	if !errors.Is(err, trust.ErrBadSignature) {
		t.Fatalf("tampered file after a good load: err = %v", err)
	}
	if got := v.n.Load(); got != 9 {
		t.Errorf("second load verified %d files in all, want 9 (only the changed one again)", got)
	}
	data[50] ^= 1
	write(t, p, data)
	cat, err := l.Load(context.Background(), dir)
	if err != nil || len(cat.Builds) != 7 {
		t.Fatalf("restored file: %v, %d builds", err, len(cat.Builds))
	}
	if string(cat.Builds[len(cat.Builds)-1].Data) != string(data) {
		t.Error("catalog does not carry the verified bytes")
	}
}

// A Loader does not read again a manifest whose stamp (size, times, inode)
// has not changed since it was read; any write changes the stamp, even one
// that keeps the size and puts the modification time back. A file modified
// within a second of its read is read each time.
func TestLoaderStamps(t *testing.T) {
	dir := copyExample(t)
	old := time.Now().Add(-time.Hour)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			err = os.Chtimes(p, old, old)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	v := &countingVerifier{Verifier: keyring(t)}
	l := catalog.NewLoader(v)
	load := func(wantReads int64) error {
		t.Helper()
		before := l.Reads()
		_, err := l.Load(context.Background(), dir)
		if got := l.Reads() - before; got != wantReads {
			t.Errorf("load read %d files, want %d", got, wantReads)
		}
		return err
	}
	if err := load(8); err != nil {
		t.Fatal(err)
	}
	if err := load(0); err != nil {
		t.Fatal(err)
	}

	// Same size, modification time put back: the change time gives it away
	// (where the system has one; elsewhere the size and time are all).
	p := filepath.Join(dir, "testing", "28.20180604.1.json")
	data, _ := os.ReadFile(p)
	data[50] ^= 1
	write(t, p, data)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "linux" {
		if err := load(1); !errors.Is(err, trust.ErrBadSignature) {
			t.Fatalf("a tampered file with its old size and time: err = %v", err)
		}
	}

	// Modified just now: read at each load until it is a second old.
	data[50] ^= 1
	write(t, p, data)
	if err := load(1); err != nil {
		t.Fatal(err)
	}
	verified := v.n.Load()
	if err := load(1); err != nil {
		t.Fatal(err)
	}
	if v.n.Load() != verified {
		t.Error("a file read again with the same bytes was verified again")
	}
}
