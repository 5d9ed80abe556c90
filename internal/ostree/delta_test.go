package ostree

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The static delta the real ostree wrote into testdata/repo: the summary
// lists it by the sha256 of its superblock, which sits where DeltaDir says;
// each part has the sha256 the superblock says; the delta index of its
// target lists the same delta.
func TestDeltas(t *testing.T) {
	read := func(rel string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join("testdata/repo", rel))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	sum := func(data []byte) string { s := sha256.Sum256(data); return hex.EncodeToString(s[:]) }
	deltas, err := SummaryDeltas(read("summary"))
	if err != nil || len(deltas) != 1 {
		t.Fatalf("summary deltas: %v, %v", deltas, err)
	}
	for name, sb := range deltas {
		dir, err := DeltaDir(name)
		if err != nil {
			t.Fatal(err)
		}
		super := read(dir + "superblock")
		if sum(super) != sb {
			t.Errorf("%ssuperblock: sha256 %s, the summary says %s", dir, sum(super), sb)
		}
		parts, err := DeltaParts(super)
		if err != nil || len(parts) == 0 {
			t.Fatalf("parts: %v, %v", parts, err)
		}
		for i, p := range parts {
			if got := sum(read(dir + string(rune('0'+i)))); got != p {
				t.Errorf("part %d: sha256 %s, the superblock says %s", i, got, p)
			}
		}
		_, to, _ := strings.Cut(name, "-")
		idx, err := DeltaIndexPath(to)
		if err != nil {
			t.Fatal(err)
		}
		listed, err := IndexDeltas(read(idx))
		if err != nil || !maps.Equal(listed, deltas) {
			t.Errorf("%s lists %v (%v), the summary %v", idx, listed, err, deltas)
		}
	}
	if _, err := DeltaDir("nothex"); err == nil {
		t.Error("a delta name that is not checksums was accepted")
	}
}
