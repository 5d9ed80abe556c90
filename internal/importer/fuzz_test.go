package importer_test

import (
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/importer"
	"github.com/projectatomic/atomic-site/internal/manifest"
)

// FuzzParseChecksum checks that the CHECKSUM parser never panics, that its
// errors name the file, and that what it accepts is what a manifest can
// hold: lowercase sha256 digests and plain file names.
func FuzzParseChecksum(f *testing.F) {
	f.Add(realdata(f, "Fedora-AtomicHost-28-1.1-x86_64-CHECKSUM"))
	f.Add(realdata(f, "Fedora-Cloud_Atomic-23-x86_64-CHECKSUM"))
	f.Add([]byte("# a.qcow2: 12 bytes\nSHA256 (a.qcow2) = " + strings.Repeat("A", 64) + "\n"))
	f.Add([]byte("SHA256 (../../etc/passwd) = " + strings.Repeat("a", 64) + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := importer.ParseChecksum("CHECKSUM", data, nil)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "CHECKSUM") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, e := range entries {
			if !manifest.IsSHA256(e.SHA256) {
				t.Fatalf("accepted digest %q", e.SHA256)
			}
			if e.Name == "" || strings.ContainsAny(e.Name, "/\\\x00\n") || e.Name == ".." {
				t.Fatalf("accepted file name %q", e.Name)
			}
			if e.Size != nil && *e.Size < 0 {
				t.Fatalf("accepted size %d", *e.Size)
			}
		}
	})
}
