// Package gpgsig checks OpenPGP signatures with a keyring of trusted keys:
// the clear-signed CHECKSUM files Fedora publishes, and the detached
// signatures ostree keeps of its commits and summaries. It uses
// ProtonMail's go-crypto, the maintained fork of x/crypto/openpgp.
package gpgsig

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// LoadKeyring reads an OpenPGP keyring, armored or binary.
func LoadKeyring(path string) (openpgp.EntityList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var kr openpgp.EntityList
	if bytes.Contains(data, []byte("-----BEGIN PGP")) {
		kr, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	} else {
		kr, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("keyring %s: %w", path, err)
	}
	if len(kr) == 0 {
		return nil, fmt.Errorf("keyring %s: no keys", path)
	}
	return kr, nil
}

// ErrNoValidSignature is wrapped by the error of data none of whose
// signatures a trusted key made.
var ErrNoValidSignature = errors.New("no valid signature by a trusted key")

// VerifyDetached checks that at least one of sigs (binary OpenPGP
// signature packets) is a valid signature of signed by a key of the
// keyring, as ostree's gpg-verify asks, and returns its key's
// fingerprint.
func VerifyDetached(keyring openpgp.EntityList, signed []byte, sigs [][]byte) (string, error) {
	if len(sigs) == 0 {
		return "", fmt.Errorf("%w: not signed", ErrNoValidSignature)
	}
	var why []string
	for _, sig := range sigs {
		signer, err := openpgp.CheckDetachedSignature(keyring, bytes.NewReader(signed), bytes.NewReader(sig), nil)
		if err == nil {
			return fmt.Sprintf("%X", signer.PrimaryKey.Fingerprint), nil
		}
		why = append(why, err.Error())
	}
	return "", fmt.Errorf("%w (%d signatures: %s)", ErrNoValidSignature, len(sigs), strings.Join(why, "; "))
}
