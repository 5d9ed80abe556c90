package gpgsig

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

func newKey(t *testing.T, name string) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", name+"@example.org", nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func sign(t *testing.T, e *openpgp.Entity, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := openpgp.DetachSign(&b, e, bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// One valid signature by a trusted key is enough; a signature by another
// key, a signature of other data, or none at all is not.
func TestVerifyDetached(t *testing.T) {
	trusted, other := newKey(t, "trusted"), newKey(t, "other")
	keyring := openpgp.EntityList{trusted}
	data := []byte("summary bytes")
	good, foreign := sign(t, trusted, data), sign(t, other, data)
	for _, tt := range []struct {
		name string
		data []byte
		sigs [][]byte
		ok   bool
	}{
		{"trusted", data, [][]byte{good}, true},
		{"one of two", data, [][]byte{foreign, good}, true},
		{"another key", data, [][]byte{foreign}, false},
		{"other data", []byte("changed"), [][]byte{good}, false},
		{"not signed", data, nil, false},
		{"garbage", data, [][]byte{[]byte("not a packet")}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fp, err := VerifyDetached(keyring, tt.data, tt.sigs)
			if tt.ok && (err != nil || fp == "") {
				t.Fatalf("refused: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrNoValidSignature) {
				t.Fatalf("got %q, %v; want ErrNoValidSignature", fp, err)
			}
		})
	}
}

// A keyring is read armored or binary; an empty one is an error naming
// the file.
func TestLoadKeyring(t *testing.T) {
	e := newKey(t, "k")
	dir := t.TempDir()
	var bin, arm bytes.Buffer
	if err := e.Serialize(&bin); err != nil {
		t.Fatal(err)
	}
	w, _ := armor.Encode(&arm, openpgp.PublicKeyType, nil)
	e.Serialize(w)
	w.Close()
	for name, data := range map[string][]byte{"k.gpg": bin.Bytes(), "k.asc": arm.Bytes()} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		kr, err := LoadKeyring(p)
		if err != nil || len(kr) != 1 {
			t.Errorf("%s: %d keys, %v", name, len(kr), err)
		}
	}
	empty := filepath.Join(dir, "empty.gpg")
	os.WriteFile(empty, nil, 0o644)
	if _, err := LoadKeyring(empty); err == nil || !bytes.Contains([]byte(err.Error()), []byte(empty)) {
		t.Errorf("an empty keyring: %v", err)
	}
}
