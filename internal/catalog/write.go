package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/projectatomic/atomic-site/internal/atomicfile"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// Signer signs a file's bytes; *trust.Signer is one.
type Signer interface {
	Sign(data []byte) ([]byte, error)
}

// ErrUntrustedKey marks a signature that the trusted keys do not verify,
// refused before anything is written.
var ErrUntrustedKey = errors.New("the signing key is not among the trusted keys")

// Checked is a Signer whose every signature is verified with the trusted
// keys before it is used: a file signed with a key they do not hold would
// fail every later verify and build, and the site with it.
type Checked struct {
	Signer
	Keys Verifier
	// Key is the signing key's file, Dir the trusted keys' directory, for
	// the error.
	Key, Dir string
}

// Sign signs data and checks the signature with the trusted keys.
func (c Checked) Sign(data []byte) ([]byte, error) {
	sig, err := c.Signer.Sign(data)
	if err != nil {
		return nil, err
	}
	if _, err := c.Keys.Verify(data, sig); err != nil {
		pub := strings.TrimSuffix(c.Key, ".key") + ".pub"
		return nil, fmt.Errorf("%w (the public half of %s is not in %s), so verify and build would refuse what it signs; nothing was written: add %s to %s, or sign with a trusted key",
			ErrUntrustedKey, c.Key, c.Dir, pub, c.Dir)
	}
	return sig, nil
}

// Signed reports whether sig is this key's signature of data, and one the
// trusted keys verify.
func (c Checked) Signed(data, sig []byte) bool {
	own, ok := c.Signer.(SignedBy)
	if !ok || !own.Signed(data, sig) {
		return false
	}
	_, err := c.Keys.Verify(data, sig)
	return err == nil
}

// SignedBy is a Signer that can tell its own signatures; *trust.Signer is
// one.
type SignedBy interface {
	Signer
	Signed(data, sig []byte) bool
}

// SignFiles writes FILE.sig for each file. A .json file must be a valid
// manifest, so that nothing malformed gets signed. A file whose signature
// by this key is already beside it is left as it is, so that signing again
// changes nothing. Either every signature is written or none is.
func SignFiles(s Signer, files ...string) error {
	sigs := make([]atomicfile.File, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if strings.HasSuffix(f, ".json") {
			if _, err := manifest.Parse(f, data); err != nil {
				return fmt.Errorf("not signing: %w", err)
			}
		}
		if own, ok := s.(SignedBy); ok {
			if old, err := os.ReadFile(filepath.Clean(f) + trust.SigSuffix); err == nil && own.Signed(data, old) {
				continue
			}
		}
		sig, err := s.Sign(data)
		if err != nil {
			return fmt.Errorf("sign %s: %w", f, err)
		}
		sigs = append(sigs, atomicfile.File{Path: filepath.Clean(f) + trust.SigSuffix, Data: sig, Perm: 0o644})
	}
	return atomicfile.WriteAll(sigs...)
}

// Revoke withdraws a build: it writes and signs
// DIR/<stream>/<release>.revoked.json and returns its path. The build's
// manifest must be in the directory, so that a typo in the release does
// not leave the bad build published; an existing revocation is never
// replaced.
func Revoke(dir string, s Signer, rev manifest.Revocation) (string, error) {
	rev.Schema = manifest.RevocationSchema
	data, err := json.MarshalIndent(rev, "", "  ")
	if err != nil {
		return "", err
	}
	data = append(data, '\n')
	streamDir := filepath.Join(dir, rev.Stream)
	p := filepath.Join(streamDir, rev.Release+manifest.RevocationSuffix)
	// Parse what is about to be signed: the same checks as every reader.
	if _, err := manifest.Parse(p, data); err != nil {
		return "", err
	}
	if err := findBuild(streamDir, rev.Stream, rev.Release); err != nil {
		return "", err
	}
	return p, WriteSigned(p, data, s)
}

// WriteSigned signs data and writes it to path, with its signature beside
// it. The signature lands first: a manifest must never sit unsigned, where
// it would fail every build of the site. Neither file may exist already: a
// signed file is never replaced.
func WriteSigned(path string, data []byte, s Signer) error {
	sig, err := s.Sign(data)
	if err != nil {
		return fmt.Errorf("sign %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { // a new stream's first release
		return err
	}
	return atomicfile.NoClobber(
		atomicfile.File{Path: path + trust.SigSuffix, Data: sig, Perm: 0o644},
		atomicfile.File{Path: path, Data: data, Perm: 0o644},
	)
}

// findBuild checks that dir holds a manifest of stream/release.
func findBuild(dir, stream, release string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("no build %s/%s: %w", stream, release, err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") || strings.HasSuffix(name, manifest.RevocationSuffix) {
			continue
		}
		p := filepath.Join(dir, name)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b, err := manifest.ParseBuild(p, data)
		if err != nil {
			continue // verify reports bad files; here we only look for the build
		}
		if b.Stream == stream && b.Release == release {
			return nil
		}
	}
	return errors.New("no build " + stream + "/" + release + " in " + dir)
}
