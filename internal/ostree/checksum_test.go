package ostree

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/gvariant"
)

// Every object of a repository the real ostree wrote has the checksum its
// name says: file objects (regular files, a symbolic link, an executable)
// as well as metadata.
func TestChecksumRealObjects(t *testing.T) {
	root := "testdata/repo"
	types := map[string]int{}
	err := filepath.WalkDir(filepath.Join(root, "objects"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := Verify(rel, f); err != nil {
			t.Error(err)
		}
		_, typ, _ := ObjectChecksum(rel)
		types[typ]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"commit", "dirtree", "dirmeta", "filez"} {
		if types[typ] == 0 {
			t.Errorf("no %s object checked", typ)
		}
	}
}

// A changed byte anywhere in an object is found: in a metadata object, in
// a file's header (its mode) and in its compressed content.
func TestChecksumRefusesChanges(t *testing.T) {
	objs := map[string]string{}
	filepath.WalkDir("testdata/repo/objects", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel("testdata/repo", p)
			_, typ, _ := ObjectChecksum(filepath.ToSlash(rel))
			if objs[typ] == "" || typ == "filez" && largest(p, objs[typ]) {
				objs[typ] = filepath.ToSlash(rel)
			}
		}
		return nil
	})
	for _, tt := range []struct {
		name string
		key  string
		at   func(data []byte) int
	}{
		{"dirtree byte", objs["dirtree"], func(d []byte) int { return len(d) / 2 }},
		{"commit byte", objs["commit"], func(d []byte) int { return 3 }},
		{"file mode", objs["filez"], func(d []byte) int { return 8 + 8 + 8 + 3 }},
		{"file content", objs["filez"], func(d []byte) int { return len(d) - 2 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata/repo", tt.key))
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(tt.key, bytes.NewReader(data)); err != nil {
				t.Fatalf("the object as written: %v", err)
			}
			data[tt.at(data)] ^= 0x01
			err = Verify(tt.key, bytes.NewReader(data))
			if err == nil {
				t.Fatal("a changed object passed")
			}
			if !strings.HasPrefix(err.Error(), tt.key+": ") {
				t.Errorf("error %q does not name the object", err)
			}
		})
	}
}

func largest(p, than string) bool {
	a, _ := os.Stat(p)
	b, err := os.Stat(filepath.Join("testdata/repo", than))
	return err != nil || a.Size() > b.Size()
}

// A file object whose content is shorter or longer than its header says is
// refused, even when its checksum would match what is there.
func TestChecksumSize(t *testing.T) {
	for _, tt := range []struct {
		name    string
		size    uint64
		content string
	}{
		{"shorter", 10, "hello\n"},
		{"longer", 2, "hello\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hdr, err := gvariant.Encode(zlibHeaderType, []any{swap64(tt.size), uint32(0), uint32(0), swap32(0o100644), uint32(0), "", []any{}})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			binary.Write(&b, binary.BigEndian, uint32(len(hdr)))
			b.Write(make([]byte, 4))
			b.Write(hdr)
			z, _ := flate.NewWriter(&b, flate.BestSpeed)
			z.Write([]byte(tt.content))
			z.Close()
			_, err = Checksum("filez", &b)
			if err == nil || !strings.Contains(err.Error(), "header says") {
				t.Errorf("got %v, want a size error", err)
			}
		})
	}
	if _, err := Checksum("filez", strings.NewReader("\x00\x00")); err == nil || errors.Is(err, ErrChecksum) {
		t.Errorf("a truncated header: %v", err)
	}
}

func swap64(v uint64) uint64 {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return binary.LittleEndian.Uint64(b[:])
}

func swap32(v uint32) uint32 {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return binary.LittleEndian.Uint32(b[:])
}
