//go:build !linux

package builder

// exchange is not available here: swap uses two renames.
func exchange(a, b string) error { return errNoExchange }
