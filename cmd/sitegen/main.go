// Command sitegen verifies signed release manifests and builds the Fedora
// Atomic Host download site from them.
package main

import "os"

func main() { os.Exit(Main()) }
