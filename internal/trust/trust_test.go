package trust_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/trust"
)

var message = []byte(`{"schema":"atomic-release/v1","stream":"stable"}` + "\n")

// writeKey writes priv as PKCS#8 PEM in dir/name.key and its public key
// as dir/keys/name.pub, and returns the private key path.
func writeKey(t *testing.T, dir, name string, priv crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, name+".key")
	must(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	must(t, os.MkdirAll(filepath.Join(dir, "keys"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "keys", name+".pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644))
	return keyPath
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestSignAndVerifyEveryKeyType(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	for name, priv := range map[string]crypto.Signer{"ecdsa": ec, "ed25519": ed, "rsa": rs} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			keyPath := writeKey(t, dir, name, priv)
			s, err := trust.LoadSigner(keyPath)
			must(t, err)
			sig, err := s.Sign(message)
			must(t, err)
			kr, err := trust.LoadKeys(filepath.Join(dir, "keys"))
			must(t, err)
			key, err := kr.Verify(message, sig)
			if err != nil || key != name+".pub" {
				t.Fatalf("Verify = %q, %v; want %s.pub", key, err, name)
			}
			tampered := append([]byte{}, message...)
			tampered[3] ^= 1
			if _, err := kr.Verify(tampered, sig); !errors.Is(err, trust.ErrBadSignature) {
				t.Errorf("tampered: err = %v, want ErrBadSignature", err)
			}
		})
	}
}

// The spec's reference signer: openssl dgst -sha256 -sign with a P-256 key.
func TestOpenSSLSignatureVerifies(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl not found: install the Debian package openssl")
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "k.pem")
	run := func(args ...string) []byte {
		out, err := exec.Command(openssl, args...).Output()
		if err != nil {
			t.Fatalf("openssl %v: %v", args, err)
		}
		return out
	}
	run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
	must(t, os.MkdirAll(filepath.Join(dir, "keys"), 0o755))
	run("ec", "-in", key, "-pubout", "-out", filepath.Join(dir, "keys", "openssl.pem"))
	file := filepath.Join(dir, "m.json")
	must(t, os.WriteFile(file, message, 0o644))
	raw := run("dgst", "-sha256", "-sign", key, file)
	sig := []byte(base64.StdEncoding.EncodeToString(raw) + "\n")

	kr, err := trust.LoadKeys(filepath.Join(dir, "keys"))
	must(t, err)
	if _, err := kr.Verify(message, sig); err != nil {
		t.Fatalf("openssl signature: %v", err)
	}
	// And our signer reads openssl's SEC 1 "EC PRIVATE KEY" file.
	s, err := trust.LoadSigner(key)
	must(t, err)
	ours, err := s.Sign(message)
	must(t, err)
	if _, err := kr.Verify(message, ours); err != nil {
		t.Fatalf("our signature with openssl's key: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keyPath := writeKey(t, dir, "trusted", ec)
	s, _ := trust.LoadSigner(keyPath)
	good, _ := s.Sign(message)

	other := t.TempDir()
	ec2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s2, _ := trust.LoadSigner(writeKey(t, other, "stranger", ec2))
	unknown, _ := s2.Sign(message)

	kr, err := trust.LoadKeys(filepath.Join(dir, "keys"))
	must(t, err)
	raw, _ := base64.StdEncoding.DecodeString(string(good))
	flipped := append([]byte{}, raw...)
	flipped[len(flipped)-1] ^= 0xff

	for _, tt := range []struct {
		name string
		data []byte
		sig  []byte
		want error
	}{
		{"tampered file", append([]byte{' '}, message...), good, trust.ErrBadSignature},
		{"unknown key", message, unknown, trust.ErrBadSignature},
		{"flipped signature byte", message, []byte(base64.StdEncoding.EncodeToString(flipped)), trust.ErrBadSignature},
		{"garbage", message, []byte("this is not a signature!"), trust.ErrMalformed},
		{"empty", message, []byte("\n"), trust.ErrMalformed},
		{"short", message, []byte(base64.StdEncoding.EncodeToString([]byte("abc"))), trust.ErrMalformed},
		{"random bytes", message, []byte(base64.StdEncoding.EncodeToString(make([]byte, 72))), trust.ErrBadSignature},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := kr.Verify(tt.data, tt.sig); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	dir := t.TempDir()
	old, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, neu, _ := ed25519.GenerateKey(rand.Reader)
	sOld, _ := trust.LoadSigner(writeKey(t, dir, "2018", old))
	sNew, _ := trust.LoadSigner(writeKey(t, dir, "2019", neu))
	kr, err := trust.LoadKeys(filepath.Join(dir, "keys"))
	must(t, err)
	for want, s := range map[string]*trust.Signer{"2018.pub": sOld, "2019.pub": sNew} {
		sig, _ := s.Sign(message)
		if got, err := kr.Verify(message, sig); err != nil || got != want {
			t.Errorf("Verify = %q, %v; want %q", got, err, want)
		}
	}
}

func TestLoadKeysRejects(t *testing.T) {
	for _, tt := range []struct {
		name, file, content, want string
	}{
		{"not PEM", "bad.pub", "hello", "bad.pub: not a PEM public key"},
		{"private key in keys dir", "oops.pem", "", "oops.pem: not a PEM public key"},
		{"P-384", "p384.pub", "", "p384.pub: unsupported key type"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			content := []byte(tt.content)
			switch tt.name {
			case "private key in keys dir":
				ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				der, _ := x509.MarshalPKCS8PrivateKey(ec)
				content = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
			case "P-384":
				ec, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
				der, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
				content = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			}
			must(t, os.WriteFile(filepath.Join(dir, tt.file), content, 0o644))
			_, err := trust.LoadKeys(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
	t.Run("empty dir", func(t *testing.T) {
		if _, err := trust.LoadKeys(t.TempDir()); !errors.Is(err, trust.ErrNoKeys) {
			t.Fatalf("err = %v, want ErrNoKeys", err)
		}
	})
}

func TestGenerateKey(t *testing.T) {
	priv, pub, err := trust.GenerateKey()
	must(t, err)
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "k.key"), priv, 0o600))
	must(t, os.MkdirAll(filepath.Join(dir, "keys"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "keys", "k.pub"), pub, 0o644))
	s, err := trust.LoadSigner(filepath.Join(dir, "k.key"))
	must(t, err)
	sig, _ := s.Sign(message)
	kr, err := trust.LoadKeys(filepath.Join(dir, "keys"))
	must(t, err)
	if _, err := kr.Verify(message, sig); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(priv), "-----BEGIN PRIVATE KEY-----") {
		t.Errorf("private key is not unencrypted PKCS#8 PEM:\n%.40s", priv)
	}
}
