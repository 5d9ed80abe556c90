//go:build !unix

package lockfile

// Alive cannot tell here: a lock is taken over only by hand.
func Alive(pid int) bool { return true }
