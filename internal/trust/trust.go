// Package trust checks detached signatures against a directory of trusted
// public keys, and makes such signatures. A signature file holds the base64
// of a signature over a file's exact bytes, as `cosign sign-blob --key` and
// `openssl dgst -sha256 -sign KEY | base64` write it.
package trust

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// SigSuffix ends the name of a detached signature file.
const SigSuffix = ".sig"

// Sentinel errors, for errors.Is.
var (
	ErrUnsigned       = errors.New("no signature file")
	ErrMalformed      = errors.New("malformed signature")
	ErrBadSignature   = errors.New("signature does not verify with any trusted key (file changed after signing, or signed by an unknown key)")
	ErrNoKeys         = errors.New("no trusted keys")
	ErrUnsupportedKey = errors.New("unsupported key type (want ECDSA P-256, Ed25519 or RSA)")
	errNoPassword     = errors.New("key is encrypted: set COSIGN_PASSWORD")
)

// Key is one trusted public key.
type Key struct {
	Name     string // file name in the keys directory
	pem      []byte
	verifier signature.Verifier
}

// Keyring is the set of trusted keys; a file is trusted when any one of them
// verifies it, which is how keys are rotated.
type Keyring struct {
	keys []Key
}

// Fingerprint identifies the set of keys: it changes when any key file is
// added, removed, renamed or changed.
func (kr *Keyring) Fingerprint() string {
	h := sha256.New()
	for _, k := range kr.keys {
		fmt.Fprintf(h, "%s\x00%d\x00", k.Name, len(k.pem))
		h.Write(k.pem)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// LoadKeys reads every PEM public key (*.pem, *.pub) in dir. A file there
// that is not a usable key is an error: a typo in a key must not silently
// shrink the set of trusted keys.
func LoadKeys(dir string) (*Keyring, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	kr := &Keyring{}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".pem" && ext != ".pub") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read key: %w", err)
		}
		k, err := ParsePublicKey(e.Name(), data)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", p, err)
		}
		kr.keys = append(kr.keys, k)
	}
	if len(kr.keys) == 0 {
		return nil, fmt.Errorf("keys %s: %w (want PEM public keys named *.pem or *.pub)", dir, ErrNoKeys)
	}
	return kr, nil
}

// ParsePublicKey reads one PEM public key.
func ParsePublicKey(name string, pemData []byte) (Key, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemData)
	if err != nil {
		return Key{}, fmt.Errorf("not a PEM public key: %w", err)
	}
	if err := checkKeyType(pub); err != nil {
		return Key{}, err
	}
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return Key{}, err
	}
	return Key{Name: name, pem: pemData, verifier: v}, nil
}

func checkKeyType(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("%w: ECDSA curve %s", ErrUnsupportedKey, k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("%w: RSA key of %d bits is too short", ErrUnsupportedKey, k.N.BitLen())
		}
	default:
		return fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
	}
	return nil
}

// Verify checks sig (the contents of a .sig file) against data and returns
// the name of the key that verified it. Errors wrap ErrMalformed or
// ErrBadSignature.
func (kr *Keyring) Verify(data, sig []byte) (string, error) {
	raw, err := DecodeSignature(sig)
	if err != nil {
		return "", err
	}
	for _, k := range kr.keys {
		if k.verifier.VerifySignature(bytes.NewReader(raw), bytes.NewReader(data)) == nil {
			return k.Name, nil
		}
	}
	return "", ErrBadSignature
}

// DecodeSignature decodes the base64 text of a .sig file.
func DecodeSignature(sig []byte) ([]byte, error) {
	text := strings.TrimSpace(string(sig))
	if text == "" {
		return nil, fmt.Errorf("%w: signature file is empty", ErrMalformed)
	}
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64", ErrMalformed)
	}
	if len(raw) < 32 {
		return nil, fmt.Errorf("%w: %d bytes is too short for a signature", ErrMalformed, len(raw))
	}
	return raw, nil
}

// Signer makes detached signatures with one private key.
type Signer struct {
	signer   signature.Signer
	verifier signature.Verifier // of its public half
}

// LoadSigner reads a PEM private key: PKCS#8, SEC 1 (EC) or PKCS#1 (RSA),
// or a cosign-encrypted key whose password is in $COSIGN_PASSWORD.
func LoadSigner(path string) (*Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(data, passwordFromEnv)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	pub, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key %s: %w", path, ErrUnsupportedKey)
	}
	if err := checkKeyType(pub.Public()); err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	s, err := signature.LoadSigner(priv, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	v, err := signature.LoadVerifier(pub.Public(), crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	return &Signer{signer: s, verifier: v}, nil
}

// Signed reports whether sig, the contents of a .sig file, is a signature
// of data by this key: a file signed already need not be signed again.
func (s *Signer) Signed(data, sig []byte) bool {
	raw, err := DecodeSignature(sig)
	return err == nil && s.verifier.VerifySignature(bytes.NewReader(raw), bytes.NewReader(data)) == nil
}

func passwordFromEnv(bool) ([]byte, error) {
	pw, ok := os.LookupEnv("COSIGN_PASSWORD")
	if !ok {
		return nil, errNoPassword
	}
	return []byte(pw), nil
}

// Sign returns the contents of a .sig file for data: base64, no newline,
// as cosign writes it.
func (s *Signer) Sign(data []byte) ([]byte, error) {
	raw, err := s.signer.SignMessage(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return []byte(base64.StdEncoding.EncodeToString(raw)), nil
}

// GenerateKey makes an ECDSA P-256 key pair, PEM-encoded: the private key as
// unencrypted PKCS#8 (readable by openssl), the public key as PKIX.
func GenerateKey() (privPEM, pubPEM []byte, err error) {
	return cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.SkipPassword)
}

// Holds reports whether the key named name in the ring is the public key
// in pemData (the same key, however its file is laid out).
func (kr *Keyring) Holds(name string, pemData []byte) bool {
	want, _ := pem.Decode(pemData)
	if want == nil {
		return false
	}
	for _, k := range kr.keys {
		if k.Name != name {
			continue
		}
		got, _ := pem.Decode(k.pem)
		return got != nil && bytes.Equal(got.Bytes, want.Bytes)
	}
	return false
}
