// Command mirror syncs ostree repositories and release images to
// S3-compatible storage in an order that never exposes a ref or summary
// before the objects it points at.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "mirror: not yet implemented")
	os.Exit(1)
}
