// Package local is a mirror destination in a local directory: the
// default that needs no server, and a way to stage a mirror for any web
// server. Every file is written to a temporary name and renamed into
// place, so a reader sees the old file or the new one. Every operation goes
// through an os.Root, so that no write, rename or delete leaves the
// directory, and a symbolic link where the mirror would write is an error:
// the mirror writes only real files and directories, and never removes a
// link it did not create.
package local

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/projectatomic/atomic-site/internal/store"
)

// tmpPrefix begins the name of a file being written.
const tmpPrefix = ".mirror-tmp-"

// Store is a directory.
type Store struct {
	dir string

	mu   sync.Mutex
	root *os.Root
	dirs sync.Map // slash path of a directory checked to be real → true
}

var _ io.Closer = (*Store)(nil)

// New returns a Store rooted at dir. The directory is made by the first
// write, so that a dry run changes nothing.
func New(dir string) (*Store, error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	return &Store{dir: dir}, nil
}

// open returns the root, making the directory first with create. It is
// nil, with no error, for a directory that does not exist yet.
func (s *Store) open(create bool) (*os.Root, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.root != nil {
		return s.root, nil
	}
	if create {
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return nil, err
		}
	}
	r, err := os.OpenRoot(s.dir)
	if errors.Is(err, fs.ErrNotExist) && !create {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s.root = r
	return r, nil
}

func (s *Store) name(key string) string { return filepath.Join(s.dir, filepath.FromSlash(key)) }

func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains("/"+key+"/", "/../") || strings.Contains("/"+key+"/", "/./") {
		return fmt.Errorf("bad key %q", key)
	}
	return nil
}

// List walks the directory. Temporary files of unfinished writes are not
// objects; a symbolic link is listed as one, and not followed.
func (s *Store) List(ctx context.Context, _ func(string) bool, fn func(store.Object) error) error {
	root, err := s.open(false)
	if root == nil || err != nil {
		return err // nil: nothing published yet
	}
	return fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while listing
		}
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return fn(store.Object{Key: p, Symlink: true})
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), tmpPrefix) {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		return fn(store.Object{Key: p, Size: fi.Size()})
	})
}

// realDirs makes the directories of key, each checked to be a real
// directory, not a symbolic link.
func (s *Store) realDirs(root *os.Root, key string) error {
	dir := path.Dir(key)
	if dir == "." {
		return nil
	}
	if _, ok := s.dirs.Load(dir); ok {
		return nil
	}
	if err := s.realDirs(root, dir); err != nil {
		return err
	}
	fi, err := root.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := root.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		return s.realDirs(root, key) // check what is there now
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link: the mirror writes only into real directories (%w)", s.name(dir), store.ErrPermanent)
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory (%w)", s.name(dir), store.ErrPermanent)
	}
	s.dirs.Store(dir, true)
	return nil
}

// notLink fails if key is a symbolic link.
func (s *Store) notLink(root *os.Root, key string) error {
	if fi, err := root.Lstat(key); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link the mirror did not create: it neither follows nor replaces it (%w)", s.name(key), store.ErrPermanent)
	}
	return nil
}

// Put copies the file into place through a temporary file, removed if
// anything fails: a reader never finds part of a file under its name.
func (s *Store) Put(ctx context.Context, u store.Upload) error {
	if err := checkKey(u.Key); err != nil {
		return err
	}
	root, err := s.open(true)
	if err != nil {
		return fmt.Errorf("write %s: %w", s.name(u.Key), classify(err))
	}
	if err := s.realDirs(root, u.Key); err != nil {
		return fmt.Errorf("write %s: %w", s.name(u.Key), classify(err))
	}
	if err := s.notLink(root, u.Key); err != nil {
		return fmt.Errorf("write %w", err)
	}
	if err := s.put(root, u); err != nil {
		return fmt.Errorf("write %s: %w", s.name(u.Key), classify(err))
	}
	return nil
}

func (s *Store) put(root *os.Root, u store.Upload) error {
	in, err := u.Body()
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, tmpName, err := createTemp(root, path.Dir(u.Key))
	if err != nil {
		return err
	}
	defer root.Remove(tmpName)
	n, err := io.Copy(tmp, in)
	if err == nil && n != u.Size {
		err = fmt.Errorf("%s changed while copying: %d bytes, expected %d", u.Path, n, u.Size)
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return root.Rename(tmpName, u.Key)
}

// createTemp makes a new temporary file in dir (os.Root has no CreateTemp).
func createTemp(root *os.Root, dir string) (*os.File, string, error) {
	for {
		var b [8]byte
		rand.Read(b[:])
		name := path.Join(dir, tmpPrefix+hex.EncodeToString(b[:]))
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, name, err
	}
}

// classify drops the temporary file's name from an error (the caller
// names the destination file) and marks as permanent what trying again
// cannot mend: a full disk, a read-only file system, no permission.
func classify(err error) error {
	if errors.Is(err, store.ErrPermanent) {
		return err
	}
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	for _, e := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EACCES, syscall.EPERM} {
		if errors.Is(err, e) {
			return fmt.Errorf("%w (%w)", err, store.ErrPermanent)
		}
	}
	if strings.Contains(err.Error(), "escapes from parent") {
		return fmt.Errorf("%w (%w)", err, store.ErrPermanent)
	}
	return err
}

// Delete removes a key; one already gone is fine. A symbolic link is never
// removed: the mirror did not create it.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	root, err := s.open(false)
	if root == nil || err != nil {
		return err
	}
	if err := s.notLink(root, key); err != nil {
		return fmt.Errorf("delete %w", err)
	}
	if err := root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", s.name(key), classify(err))
	}
	return nil
}

// SHA256 hashes a file: cheap for the small mutable files it is asked of.
func (s *Store) SHA256(ctx context.Context, key string) (string, error) {
	r, err := s.Open(ctx, key)
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

// Open reads a key, for mirror verify.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	root, err := s.open(false)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, fmt.Errorf("open %s: %w", s.name(key), fs.ErrNotExist)
	}
	return root.Open(key)
}

// Leftovers lists the temporary files of writes that never finished (a
// killed run's).
func (s *Store) Leftovers(ctx context.Context, _ []store.Object) ([]store.Leftover, error) {
	root, err := s.open(false)
	if root == nil || err != nil {
		return nil, err
	}
	var out []store.Leftover
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasPrefix(d.Name(), tmpPrefix) {
			if fi, err := d.Info(); err == nil {
				out = append(out, store.Leftover{Key: p, Size: fi.Size(), Started: fi.ModTime(), Kind: "temporary file"})
			}
		}
		return nil
	})
	return out, err
}

// RemoveLeftover removes a temporary file found by Leftovers.
func (s *Store) RemoveLeftover(ctx context.Context, l store.Leftover) error {
	if !strings.HasPrefix(path.Base(l.Key), tmpPrefix) {
		return fmt.Errorf("%s: not a temporary file of the mirror", s.name(l.Key))
	}
	return s.Delete(ctx, l.Key)
}

// Lock takes DEST/.mirror/lock with flock: held while the process lives,
// released by the kernel when it dies, however it dies.
func (s *Store) Lock(ctx context.Context, dest string, h store.Holder) (store.Lease, error) {
	root, err := s.open(true)
	if err == nil {
		err = s.realDirs(root, store.LockKey)
	}
	if err == nil {
		err = s.notLink(root, store.LockKey)
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", s.name(store.LockKey), err)
	}
	f, err := root.OpenFile(store.LockKey, os.O_RDWR|os.O_CREATE, 0o644)
	readOnly := false
	if errors.Is(err, syscall.EROFS) {
		// A read-only destination: an flock still excludes other runs,
		// and the first write names the real trouble.
		if ro, rerr := root.Open(store.LockKey); rerr == nil {
			f, err, readOnly = ro, nil, true
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", s.name(store.LockKey), err)
	}
	name := s.name(store.LockKey)
	ok, err := tryLock(f)
	if err != nil || !ok {
		defer f.Close()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		var cur store.Holder
		data, _ := io.ReadAll(io.LimitReader(f, 1<<16))
		if json.Unmarshal(data, &cur) != nil {
			cur.Tool = "a run that has not written its name yet"
		}
		return nil, &store.LockedError{Dest: dest, Holder: cur, Flock: true}
	}
	if readOnly {
		return &fileLease{f: f}, nil
	}
	h.Started = time.Now().UTC()
	data, _ := json.MarshalIndent(h, "", "  ")
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt(append(data, '\n'), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return &fileLease{f: f}, nil
}

type fileLease struct {
	f    *os.File
	once sync.Once
}

// Ready and Check have nothing to ask: a flock lasts as long as its file
// is open.
func (l *fileLease) Ready(context.Context) error { return nil }
func (l *fileLease) Check(context.Context) error { return nil }

// Release empties the lock file and closes it, which unlocks it. The file
// stays: removing it would race a run that opened it meanwhile.
func (l *fileLease) Release(context.Context) error {
	var err error
	l.once.Do(func() {
		l.f.Truncate(0)
		err = l.f.Close()
	})
	return err
}

// Close lets the directory go.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.root == nil {
		return nil
	}
	err := s.root.Close()
	s.root = nil
	return err
}
