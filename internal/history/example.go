package history

import "github.com/projectatomic/atomic-site/internal/catalog"

// examplePublicKey is the key that signs the project's example history
// (testdata/keys/test.pub; its private half is checked in, so anyone can
// sign with it). A site with a build it verified is the example, and says
// so on every page: it must never pass for the real download site.
const examplePublicKey = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEijCXP+bogBipQbqbR21xTdq/Ck15
VmW9ltjS4X9eTQmvXB6laN473oXhV7lsSIMBEGNopy2NZMwWKQ19wCtk3A==
-----END PUBLIC KEY-----
`

// example reports whether any build or revocation of cat was verified by
// the example key.
func example(cat *catalog.Catalog, holds func(name string, pem []byte) bool) bool {
	for _, b := range cat.Builds {
		if holds(b.Key, []byte(examplePublicKey)) {
			return true
		}
	}
	for _, r := range cat.Revocations {
		if holds(r.Key, []byte(examplePublicKey)) {
			return true
		}
	}
	return false
}
