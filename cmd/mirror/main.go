// Command mirror publishes ostree repositories and release images to
// S3-compatible storage or a local directory, in an order that never lets
// a client see a ref or summary pointing at objects not uploaded yet.
package main

import "os"

func main() { os.Exit(Main()) }
