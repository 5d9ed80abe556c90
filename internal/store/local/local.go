// Package local is a mirror destination in a local directory: the
// default that needs no server, and a way to stage a mirror for any web
// server. Every file is written to a temporary name and renamed into
// place, so a reader sees the old file or the new one.
package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/projectatomic/atomic-site/internal/mirror"
)

// Store is a directory.
type Store struct {
	root string
}

var (
	_ mirror.Store  = (*Store)(nil)
	_ mirror.Summer = (*Store)(nil)
)

// New returns a Store rooted at dir. The directory is made by the first
// Put, so that a dry run changes nothing.
func New(dir string) (*Store, error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	return &Store{root: dir}, nil
}

func (s *Store) path(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains("/"+key+"/", "/../") {
		return "", fmt.Errorf("bad key %q", key)
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// List walks the directory. Temporary files of unfinished writes are not
// objects.
func (s *Store) List(ctx context.Context, _ func(string) bool, fn func(mirror.Object) error) error {
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".mirror-tmp-") {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.root, p)
		return fn(mirror.Object{Key: filepath.ToSlash(rel), Size: fi.Size()})
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil // nothing published yet
	}
	return err
}

// Put copies the file into place through a temporary file, removed if
// anything fails: a reader never finds part of a file under its name.
func (s *Store) Put(ctx context.Context, u mirror.Upload) error {
	dst, err := s.path(u.Key)
	if err != nil {
		return err
	}
	if err := put(u, dst); err != nil {
		return fmt.Errorf("write %s: %w", dst, classify(err))
	}
	return nil
}

func put(u mirror.Upload, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(u.Path)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".mirror-tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
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
	return os.Rename(tmp.Name(), dst)
}

// classify drops the temporary file's name from an error (the caller
// names the destination file) and marks as permanent what trying again
// cannot mend: a full disk, a read-only file system, no permission.
func classify(err error) error {
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
			return fmt.Errorf("%w (%w)", err, mirror.ErrPermanent)
		}
	}
	return err
}

// Delete removes a key; one already gone is fine.
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// SHA256 hashes a file: cheap for the small mutable files it is asked of.
func (s *Store) SHA256(ctx context.Context, key string) (string, error) {
	p, err := s.path(key)
	if err != nil {
		return "", err
	}
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Open reads a key, for mirror verify.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}
