package ostree

import (
	"encoding/hex"
	"fmt"
	"sort"

	"github.com/projectatomic/atomic-site/internal/gvariant"
)

// The GVariant types of the objects a walk reads (ostree's
// src/libostree/ostree-core.h).
const (
	commitType  = "(a{sv}aya(say)sstayay)"
	dirTreeType = "(a(say)a(sayay))"
	summaryType = "(a(s(taya{sv}))a{sv})"
)

// Commit is what a walk needs of a commit object.
type Commit struct {
	Parent   string // "" for none
	Subject  string
	RootTree string // the root dirtree's checksum
	RootMeta string // the root dirmeta's checksum
}

// ParseCommit reads a .commit object.
func ParseCommit(data []byte) (*Commit, error) {
	v, err := gvariant.Decode(commitType, data)
	if err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	m := v.([]any)
	c := &Commit{Subject: m[3].(string)}
	if p := m[1].([]byte); len(p) > 0 {
		if c.Parent, err = checksum(p); err != nil {
			return nil, fmt.Errorf("commit parent: %w", err)
		}
	}
	if c.RootTree, err = checksum(m[6].([]byte)); err != nil {
		return nil, fmt.Errorf("commit root tree: %w", err)
	}
	if c.RootMeta, err = checksum(m[7].([]byte)); err != nil {
		return nil, fmt.Errorf("commit root metadata: %w", err)
	}
	return c, nil
}

// DirTree is a directory listing: file content checksums, and for each
// subdirectory its dirtree and dirmeta.
type DirTree struct {
	Files []TreeFile
	Dirs  []TreeDir
}

// TreeFile is a file of a DirTree.
type TreeFile struct{ Name, Checksum string }

// TreeDir is a subdirectory of a DirTree.
type TreeDir struct{ Name, Tree, Meta string }

// ParseDirTree reads a .dirtree object.
func ParseDirTree(data []byte) (*DirTree, error) {
	v, err := gvariant.Decode(dirTreeType, data)
	if err != nil {
		return nil, fmt.Errorf("dirtree: %w", err)
	}
	m := v.([]any)
	t := &DirTree{}
	for _, e := range m[0].([]any) {
		f := e.([]any)
		sum, err := checksum(f[1].([]byte))
		if err != nil {
			return nil, fmt.Errorf("dirtree file %q: %w", f[0], err)
		}
		t.Files = append(t.Files, TreeFile{Name: f[0].(string), Checksum: sum})
	}
	for _, e := range m[1].([]any) {
		d := e.([]any)
		tree, err := checksum(d[1].([]byte))
		if err != nil {
			return nil, fmt.Errorf("dirtree directory %q: %w", d[0], err)
		}
		meta, err := checksum(d[2].([]byte))
		if err != nil {
			return nil, fmt.Errorf("dirtree directory %q: %w", d[0], err)
		}
		t.Dirs = append(t.Dirs, TreeDir{Name: d[0].(string), Tree: tree, Meta: meta})
	}
	return t, nil
}

// ParseSummary reads a summary file's refs: ref name → commit checksum.
func ParseSummary(data []byte) (map[string]string, error) {
	v, err := gvariant.Decode(summaryType, data)
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	refs := map[string]string{}
	for _, e := range v.([]any)[0].([]any) {
		r := e.([]any)
		name := r[0].(string)
		sum, err := checksum(r[1].([]any)[1].([]byte))
		if err != nil {
			return nil, fmt.Errorf("summary ref %q: %w", name, err)
		}
		refs[name] = sum
	}
	return refs, nil
}

func checksum(b []byte) (string, error) {
	if len(b) != 32 {
		return "", fmt.Errorf("a checksum of %d bytes, not 32", len(b))
	}
	return hex.EncodeToString(b), nil
}

// ObjectPath is where an object of an archive repository lives:
// objects/XX/YYYY.TYPE, with TYPE commit, dirtree, dirmeta or filez.
func ObjectPath(sum, typ string) string {
	return "objects/" + sum[:2] + "/" + sum[2:] + "." + typ
}

// SortedRefs lists a ref map's names in order.
func SortedRefs(refs map[string]string) []string {
	names := make([]string, 0, len(refs))
	for n := range refs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// metaType is the type of a summary.sig and of a .commitmeta: a dict of
// named values.
const metaType = "a{sv}"

// Signatures reads the OpenPGP signatures (ostree.gpgsigs, binary
// packets) from a summary.sig or a .commitmeta; none if it has none.
func Signatures(meta []byte) ([][]byte, error) {
	v, err := gvariant.Decode(metaType, meta)
	if err != nil {
		return nil, fmt.Errorf("detached metadata: %w", err)
	}
	list, err := metaValue(v.([]any), "ostree.gpgsigs", "aay")
	if list == nil || err != nil {
		return nil, err
	}
	var sigs [][]byte
	for _, s := range list {
		sigs = append(sigs, s.([]byte))
	}
	return sigs, nil
}

// metaValue decodes the value of key, which must be of type typ, from a
// dict of named values (a{sv}) decoded as a list; nil if key is not there.
func metaValue(meta []any, key, typ string) ([]any, error) {
	for _, e := range meta {
		kv := e.([]any)
		if kv[0].(string) != key {
			continue
		}
		val := kv[1].(gvariant.Variant)
		if val.Type != typ {
			return nil, fmt.Errorf("%s of type %s, not %s", key, val.Type, typ)
		}
		list, err := gvariant.Decode(val.Type, val.Data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if list == nil {
			list = []any{}
		}
		return list.([]any), nil
	}
	return nil, nil
}
