//go:build !unix

package lockfile

// alive cannot tell here: a lock is taken over only by hand.
func alive(pid int) bool { return true }
