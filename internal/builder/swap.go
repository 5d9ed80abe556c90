package builder

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// swap puts the directory next in the place of cur. Where cur exists the two
// are exchanged in one atomic rename (Linux renameat2 RENAME_EXCHANGE), so
// there is no moment without a site; the old one is then removed.
func swap(next, cur string) error {
	if _, err := os.Lstat(cur); errors.Is(err, os.ErrNotExist) {
		return os.Rename(next, cur)
	}
	err := unix.Renameat2(unix.AT_FDCWD, next, unix.AT_FDCWD, cur, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) {
		// No exchange on this file system: two renames, a brief gap.
		old := next + ".old"
		if err := os.Rename(cur, old); err != nil {
			return err
		}
		if err := os.Rename(next, cur); err != nil {
			os.Rename(old, cur)
			return err
		}
		return os.RemoveAll(old)
	}
	if err != nil {
		return err
	}
	// next now holds the old site; the caller removes it.
	return nil
}
