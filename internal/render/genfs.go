package render

import (
	"bytes"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/afero"
)

// genFS is the generated tree as Hugo reads it: files served from the
// bytes sitegen made, not copies of them (at ten years of history, a copy
// is hundreds of megabytes). Hugo only reads it; Set and del change it
// between builds.
type genFS struct {
	mu    sync.RWMutex
	files map[string]genEntry
	dirs  map[string]map[string]bool // children's names, by directory
}

type genEntry struct {
	data []byte
	mod  time.Time
}

var _ afero.Fs = (*genFS)(nil)

func newGenFS() *genFS {
	return &genFS{files: map[string]genEntry{}, dirs: map[string]map[string]bool{"/": {}}}
}

// set puts data at the slash path p; data must not be changed after.
func (g *genFS) set(p string, data []byte) {
	p = path.Clean("/" + p)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.files[p] = genEntry{data: data, mod: time.Now()}
	g.addParents(p)
}

func (g *genFS) addParents(p string) {
	for p != "/" {
		dir, name := path.Split(p)
		dir = path.Clean(dir)
		if g.dirs[dir] == nil {
			g.dirs[dir] = map[string]bool{}
		}
		if g.dirs[dir][name] {
			return // and its parents are there too
		}
		g.dirs[dir][name] = true
		p = dir
	}
}

// get returns the bytes of the file at p.
func (g *genFS) get(p string) ([]byte, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	e, ok := g.files[path.Clean("/"+p)]
	return e.data, ok
}

// paths lists the files.
func (g *genFS) paths() []string {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return slices.Collect(maps.Keys(g.files))
}

// del removes the file at p (directories stay, empty).
func (g *genFS) del(p string) {
	p = path.Clean("/" + p)
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.files[p]; ok {
		delete(g.files, p)
		dir, name := path.Split(p)
		delete(g.dirs[path.Clean(dir)], name)
	}
}

func (g *genFS) Name() string { return "sitegen-generated" }

func (g *genFS) Stat(name string) (os.FileInfo, error) {
	p := path.Clean("/" + name)
	g.mu.RLock()
	defer g.mu.RUnlock()
	if e, ok := g.files[p]; ok {
		return genInfo{name: path.Base(p), size: int64(len(e.data)), mod: e.mod}, nil
	}
	if _, ok := g.dirs[p]; ok {
		return genInfo{name: path.Base(p), dir: true}, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

func (g *genFS) Open(name string) (afero.File, error) {
	p := path.Clean("/" + name)
	g.mu.RLock()
	defer g.mu.RUnlock()
	if e, ok := g.files[p]; ok {
		return &genFile{name: name, info: genInfo{name: path.Base(p), size: int64(len(e.data)), mod: e.mod},
			Reader: bytes.NewReader(e.data)}, nil
	}
	children, ok := g.dirs[p]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	f := &genFile{name: name, info: genInfo{name: path.Base(p), dir: true}, Reader: bytes.NewReader(nil)}
	for _, c := range slices.Sorted(func(yield func(string) bool) {
		for c := range children {
			if !yield(c) {
				return
			}
		}
	}) {
		cp := path.Join(p, c)
		if e, ok := g.files[cp]; ok {
			f.entries = append(f.entries, genInfo{name: c, size: int64(len(e.data)), mod: e.mod})
		} else {
			f.entries = append(f.entries, genInfo{name: c, dir: true})
		}
	}
	return f, nil
}

func (g *genFS) OpenFile(name string, flag int, _ os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0 {
		return nil, readOnly("open", name)
	}
	return g.Open(name)
}

// Mkdir and MkdirAll make directories, which cost nothing and which a
// union file system may ask for.
func (g *genFS) Mkdir(name string, _ os.FileMode) error { return g.MkdirAll(name, 0) }

func (g *genFS) MkdirAll(name string, _ os.FileMode) error {
	p := path.Clean("/" + name)
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.files[p]; ok {
		return &fs.PathError{Op: "mkdir", Path: name, Err: syscall.ENOTDIR}
	}
	if g.dirs[p] == nil {
		g.dirs[p] = map[string]bool{}
	}
	g.addParents(p)
	return nil
}

func (g *genFS) Create(name string) (afero.File, error)    { return nil, readOnly("create", name) }
func (g *genFS) Remove(name string) error                  { return readOnly("remove", name) }
func (g *genFS) RemoveAll(name string) error               { return readOnly("remove", name) }
func (g *genFS) Rename(name, _ string) error               { return readOnly("rename", name) }
func (g *genFS) Chmod(name string, _ os.FileMode) error    { return readOnly("chmod", name) }
func (g *genFS) Chown(name string, _, _ int) error         { return readOnly("chown", name) }
func (g *genFS) Chtimes(name string, _, _ time.Time) error { return readOnly("chtimes", name) }
func (g *genFS) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	fi, err := g.Stat(name)
	return fi, false, err
}

func readOnly(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: syscall.EPERM}
}

type genInfo struct {
	name string
	size int64
	mod  time.Time
	dir  bool
}

func (i genInfo) Name() string       { return i.name }
func (i genInfo) Size() int64        { return i.size }
func (i genInfo) ModTime() time.Time { return i.mod }
func (i genInfo) IsDir() bool        { return i.dir }
func (i genInfo) Sys() any           { return nil }
func (i genInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}

// genFile is an open file or directory of a genFS.
type genFile struct {
	*bytes.Reader
	name    string
	info    genInfo
	entries []genInfo // a directory's, left to list
}

func (f *genFile) Close() error               { return nil }
func (f *genFile) Name() string               { return f.name }
func (f *genFile) Stat() (os.FileInfo, error) { return f.info, nil }
func (f *genFile) Sync() error                { return nil }

func (f *genFile) Readdir(count int) ([]os.FileInfo, error) {
	if !f.info.dir {
		return nil, &fs.PathError{Op: "readdir", Path: f.name, Err: syscall.ENOTDIR}
	}
	n := len(f.entries)
	if count > 0 {
		if n == 0 {
			return nil, io.EOF
		}
		n = min(n, count)
	}
	out := make([]os.FileInfo, n)
	for i := range n {
		out[i] = f.entries[i]
	}
	f.entries = f.entries[n:]
	return out, nil
}

// ReadDir is Readdir for io/fs, which Hugo asks for.
func (f *genFile) ReadDir(count int) ([]fs.DirEntry, error) {
	infos, err := f.Readdir(count)
	entries := make([]fs.DirEntry, len(infos))
	for i, fi := range infos {
		entries[i] = fs.FileInfoToDirEntry(fi)
	}
	return entries, err
}

func (f *genFile) Readdirnames(count int) ([]string, error) {
	infos, err := f.Readdir(count)
	names := make([]string, len(infos))
	for i, fi := range infos {
		names[i] = fi.Name()
	}
	return names, err
}

func (f *genFile) Write([]byte) (int, error)          { return 0, readOnly("write", f.name) }
func (f *genFile) WriteAt([]byte, int64) (int, error) { return 0, readOnly("write", f.name) }
func (f *genFile) WriteString(string) (int, error)    { return 0, readOnly("write", f.name) }
func (f *genFile) Truncate(int64) error               { return readOnly("truncate", f.name) }
