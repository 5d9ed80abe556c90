// Package atomicfile writes files so that a reader sees the old contents or
// the new, never a half-written file: write a temporary file beside the
// target, sync it, and rename it over the target.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// File is one file to write.
type File struct {
	Path string
	Data []byte
	Perm os.FileMode
}

// Write writes one file atomically.
func Write(path string, data []byte, perm os.FileMode) error {
	return WriteAll(File{Path: path, Data: data, Perm: perm})
}

// WriteAll writes every file to a temporary beside its target first, and
// renames them in the order given only when all were written, so a failure
// while writing leaves every target as it was. Order matters to callers:
// put the file that makes the others count (a manifest after its signature)
// last.
func WriteAll(files ...File) (err error) {
	temps := make([]string, 0, len(files))
	defer func() {
		if err != nil {
			for _, t := range temps {
				os.Remove(t)
			}
		}
	}()
	for _, f := range files {
		t, err := writeTemp(f)
		if err != nil {
			return err
		}
		temps = append(temps, t)
	}
	for i, f := range files {
		if err := os.Rename(temps[i], f.Path); err != nil {
			return err
		}
	}
	return nil
}

// NoClobber is WriteAll that refuses to replace a file that exists.
func NoClobber(files ...File) error {
	for _, f := range files {
		if _, err := os.Lstat(f.Path); err == nil {
			return fmt.Errorf("%s already exists; not overwriting it", f.Path)
		}
	}
	return WriteAll(files...)
}

func writeTemp(f File) (string, error) {
	dir, base := filepath.Split(f.Path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return "", err
	}
	name := tmp.Name()
	_, err = tmp.Write(f.Data)
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Chmod(f.Perm)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("write %s: %w", f.Path, err)
	}
	return name, nil
}
