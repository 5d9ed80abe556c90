package importer_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"

	"github.com/projectatomic/atomic-site/internal/importer"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/testkit/fixture"
)

func realdata(t testing.TB, name string) []byte { return fixture.Realdata(t, name) }

func TestParseRealChecksums(t *testing.T) {
	for _, tt := range []struct {
		file  string
		n     int
		first string
		size  int64 // of the first; -1 when the file gives no sizes
	}{
		{"Fedora-AtomicHost-28-1.1-x86_64-CHECKSUM", 4, "Fedora-AtomicHost-28-1.1.x86_64.qcow2", 642151936},
		{"Fedora-Cloud_Atomic-23-x86_64-CHECKSUM", 1, "Fedora-Cloud_Atomic-x86_64-23.iso", -1},
	} {
		t.Run(tt.file, func(t *testing.T) {
			entries, err := importer.ParseChecksum(tt.file, realdata(t, tt.file), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != tt.n || entries[0].Name != tt.first || !manifest.IsSHA256(entries[0].SHA256) {
				t.Fatalf("entries = %+v", entries)
			}
			if (entries[0].Size == nil) != (tt.size < 0) || (entries[0].Size != nil && *entries[0].Size != tt.size) {
				t.Errorf("size = %v, want %d", entries[0].Size, tt.size)
			}
			b, err := importer.FromChecksum(entries, importer.ChecksumOptions{Stream: "stable", Release: "28.20180425.0", BaseURL: "https://dl.example.org/x/"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := importer.Marshal("stable/28.20180425.0.json", b); err != nil {
				t.Fatal(err)
			}
		})
	}
	entries, _ := importer.ParseChecksum("c", realdata(t, "Fedora-AtomicHost-28-1.1-x86_64-CHECKSUM"), nil)
	b, _ := importer.FromChecksum(entries, importer.ChecksumOptions{Stream: "stable", Release: "28.20180425.0", BaseURL: "https://dl.example.org/x"})
	v := b.Architectures["x86_64"].Media["vagrant"].Artifacts["vagrant-virtualbox"]["disk"]
	if v.Location != "https://dl.example.org/x/Fedora-AtomicHost-Vagrant-28-1.1.x86_64.vagrant-virtualbox.box" || *v.Size != 624721920 {
		t.Errorf("vagrant-virtualbox = %+v", v)
	}
}

func TestChecksumRejects(t *testing.T) {
	for name, in := range map[string]string{
		"garbage line": "SHA256 (a.qcow2) = 1234\n",
		"no sums":      "# just a comment\n",
		"md5 line":     "MD5 (a.qcow2) = d41d8cd98f00b204e9800998ecf8427e\n",
	} {
		if _, err := importer.ParseChecksum("CHECKSUM", []byte(in), nil); err == nil || !strings.HasPrefix(err.Error(), "CHECKSUM") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	good := "SHA256 (Fedora-AtomicHost-28-1.1.x86_64.tar.bz2) = " + strings.Repeat("a", 64) + "\n"
	entries, _ := importer.ParseChecksum("CHECKSUM", []byte(good), nil)
	if _, err := importer.FromChecksum(entries, importer.ChecksumOptions{}); err == nil || !strings.Contains(err.Error(), "unknown image format") {
		t.Errorf("unknown format: %v", err)
	}
	noArch := "SHA256 (Fedora-AtomicHost-28.qcow2) = " + strings.Repeat("a", 64) + "\n"
	entries, _ = importer.ParseChecksum("CHECKSUM", []byte(noArch), nil)
	if _, err := importer.FromChecksum(entries, importer.ChecksumOptions{}); err == nil || !strings.Contains(err.Error(), "no architecture") {
		t.Errorf("no arch: %v", err)
	}
}

// clearsigned signs body with a new key and returns the signed text and an
// armored keyring with the public key.
func clearsigned(t *testing.T, body string) ([]byte, openpgp.EntityList) {
	t.Helper()
	e, err := openpgp.NewEntity("Fedora test", "", "test@example.org", nil)
	if err != nil {
		t.Fatal(err)
	}
	var signed bytes.Buffer
	w, err := clearsign.Encode(&signed, e.PrivateKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(body))
	w.Close()
	var pub bytes.Buffer
	aw, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	e.Serialize(aw)
	aw.Close()
	kr, err := openpgp.ReadArmoredKeyRing(&pub)
	if err != nil {
		t.Fatal(err)
	}
	return signed.Bytes(), kr
}

func TestChecksumSignature(t *testing.T) {
	body := "# Fedora-AtomicHost-28-1.1.x86_64.qcow2: 642151936 bytes\nSHA256 (Fedora-AtomicHost-28-1.1.x86_64.qcow2) = a91e30ffc0126cecceaced79bb28ebfd5427d74236779e36419aa044b81cfda8\n"
	signed, kr := clearsigned(t, body)
	entries, err := importer.ParseChecksum("CHECKSUM", signed, kr)
	if err != nil || len(entries) != 1 || *entries[0].Size != 642151936 {
		t.Fatalf("good signature: %v, %+v", err, entries)
	}
	tampered := bytes.Replace(signed, []byte("642151936"), []byte("642151937"), 1)
	if _, err := importer.ParseChecksum("CHECKSUM", tampered, kr); !errors.Is(err, importer.ErrBadSignature) {
		t.Errorf("tampered: err = %v", err)
	}
	// Fedora's real file, signed by Fedora's key, is not signed by ours.
	if _, err := importer.ParseChecksum("CHECKSUM", realdata(t, "Fedora-AtomicHost-28-1.1-x86_64-CHECKSUM"), kr); !errors.Is(err, importer.ErrBadSignature) {
		t.Errorf("unknown signer: err = %v", err)
	}
	if _, err := importer.ParseChecksum("CHECKSUM", []byte(body), kr); err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Errorf("unsigned with a keyring: err = %v", err)
	}
}

func TestFCOSRelease(t *testing.T) {
	b, err := importer.FCOSRelease("release.json", realdata(t, "fcos-release.json"), "fcos-stable")
	if err != nil {
		t.Fatal(err)
	}
	data, err := importer.Marshal("fcos-stable/33.20201201.3.0.json", b)
	if err != nil {
		t.Fatal(err)
	}
	back, err := manifest.ParseBuild("x.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if back.Schema != manifest.BuildSchema || back.Stream != "fcos-stable" || back.Release != "33.20201201.3.0" || back.Status != manifest.StatusReleased {
		t.Errorf("imported = %s %s %s %s", back.Schema, back.Stream, back.Release, back.Status)
	}
	if got := len(back.Architectures["x86_64"].Media); got != 13 {
		t.Errorf("%d platforms, want the 13 of the fixture", got)
	}
	if !strings.Contains(string(data), `"project": "fedora-coreos-cloud"`) {
		t.Error("the gcp image was lost")
	}
}
