package builder

import (
	"errors"
	"os"
)

// swap puts the directory next in the place of cur. Where cur exists and
// the system can exchange two paths in one step (Linux renameat2
// RENAME_EXCHANGE), it does, so there is no moment without a site; next
// then holds the old site, for the caller to remove.
//
// Elsewhere (macOS, Windows, or a Linux file system without the exchange)
// it falls back to two renames: cur to a name beside it, then next to cur.
// Between the two a reader of cur finds nothing for an instant; if the
// second rename fails, the old site is put back.
func swap(next, cur string) error { return swapWith(next, cur, exchange) }

func swapWith(next, cur string, exchange func(a, b string) error) error {
	if _, err := os.Lstat(cur); errors.Is(err, os.ErrNotExist) {
		return os.Rename(next, cur)
	}
	switch err := exchange(next, cur); {
	case err == nil:
		return nil
	case !errors.Is(err, errNoExchange):
		return err
	}
	old := next + ".old"
	if err := os.Rename(cur, old); err != nil {
		return err
	}
	if err := os.Rename(next, cur); err != nil {
		os.Rename(old, cur)
		return err
	}
	// The caller removes next: leave the old site there.
	return os.Rename(old, next)
}

// errNoExchange says the system cannot exchange two paths atomically.
var errNoExchange = errors.New("atomic exchange not supported")
