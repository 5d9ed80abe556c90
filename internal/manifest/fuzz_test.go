package manifest_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/manifest"
)

// FuzzParse checks that Parse never panics, and that whatever it accepts
// keeps the promises later stages rely on: safe names, hex digests, and
// locations that stay inside the stream directory.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../../testdata/manifests/*/*.json")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(filepath.Base(s), data)
	}
	f.Add("x.json", realdata(f, "fcos-release.json"))
	hostile, _ := filepath.Glob("../../testdata/hostile/*.json")
	for _, s := range hostile {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(filepath.Base(s), data)
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		file, err := manifest.Parse(name, data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), name) {
				t.Fatalf("error %q does not name the file %q", err, name)
			}
			return
		}
		if (file.Build == nil) == (file.Revocation == nil) {
			t.Fatalf("want exactly one of build and revocation: %+v", file)
		}
		if r := file.Revocation; r != nil {
			if strings.ContainsAny(r.Stream+r.Release, "/\\") || !manifest.IsHTTPURL(r.Reason) {
				t.Fatalf("accepted bad revocation %+v", r)
			}
			return
		}
		b := file.Build
		if strings.ContainsAny(b.Stream+b.Release, "/\\") || strings.Contains(b.Release, "..") {
			t.Fatalf("accepted unsafe stream/release %q/%q", b.Stream, b.Release)
		}
		if b.Failed() && b.FailureTracker == "" {
			t.Fatal("accepted a failed build without a tracker")
		}
		for _, a := range b.Architectures {
			for _, p := range a.Media {
				for _, format := range p.Artifacts {
					for _, art := range format {
						if !manifest.IsSHA256(art.SHA256) {
							t.Fatalf("accepted sha256 %q", art.SHA256)
						}
						if !strings.Contains(art.Location, "://") {
							if strings.HasPrefix(art.Location, "/") || strings.HasPrefix(filepath.Clean(art.Location), "..") {
								t.Fatalf("accepted location %q", art.Location)
							}
						}
					}
				}
			}
		}
		// What was accepted must survive a round trip unchanged in meaning.
		out, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := manifest.Parse(name, out); err != nil && !strings.HasSuffix(name, manifest.RevocationSuffix) {
			t.Fatalf("re-parse of accepted build failed: %v", err)
		}
	})
}
