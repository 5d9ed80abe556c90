package metalink_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/metalink"
)

func TestURLs(t *testing.T) {
	mirrors := []metalink.Mirror{
		{Name: "a", BaseURL: "https://a.example.org/atomic/", Country: "us", Priority: 2},
		{Name: "b", BaseURL: "https://b.example.org/alt/atomic", Country: "de"},
	}
	got := metalink.URLs("https://dl.example.org/pub/alt/atomic/stable/x.qcow2", "https://dl.example.org/pub/alt/atomic/", mirrors)
	want := []metalink.URL{
		{URL: "https://dl.example.org/pub/alt/atomic/stable/x.qcow2", Priority: 1},
		{URL: "https://a.example.org/atomic/stable/x.qcow2", Location: "us", Priority: 2},
		{URL: "https://b.example.org/alt/atomic/stable/x.qcow2", Location: "de", Priority: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("URLs = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("URL %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// A file elsewhere than the downloads URL has only its own URL.
	if got := metalink.URLs("https://other.example.org/x.qcow2", "https://dl.example.org/pub/alt/atomic/", mirrors); len(got) != 1 {
		t.Errorf("URLs of a file elsewhere = %+v", got)
	}
}

func TestWrite(t *testing.T) {
	data, err := metalink.Write("x.qcow2", 42, strings.Repeat("ab", 32), []metalink.URL{{URL: "https://a/x.qcow2", Priority: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		XMLName xml.Name
		File    struct {
			Name string `xml:"name,attr"`
			Size int64  `xml:"size"`
			Hash struct {
				Type string `xml:"type,attr"`
				Sum  string `xml:",chardata"`
			} `xml:"hash"`
			URLs []string `xml:"url"`
		} `xml:"file"`
	}
	if err := xml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.XMLName.Space != "urn:ietf:params:xml:ns:metalink" || m.File.Name != "x.qcow2" || m.File.Size != 42 || m.File.Hash.Type != "sha-256" || len(m.File.URLs) != 1 {
		t.Errorf("metalink = %+v\n%s", m, data)
	}
	for _, bad := range []string{"", "a/b", `a\b`} {
		if _, err := metalink.Write(bad, 1, "x", []metalink.URL{{URL: "u"}}); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
}

// aria2c, a real download manager, follows the site's Metalink: from two
// mirrors, one of which refuses connections, it gets the file with the
// right sha256; when the only live mirror serves corrupted bytes, it
// fails.
func TestAria2c(t *testing.T) {
	aria, err := exec.LookPath("aria2c")
	if err != nil {
		t.Fatal("aria2c not found: install the Debian package aria2 (make test does, as root)")
	}
	image := bytes.Repeat([]byte("Fedora Atomic Host image "), 40000) // 1 MB
	sum := sha256.Sum256(image)
	serve := func(body []byte) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/atomic/stable/x.raw.xz" {
				http.NotFound(w, r)
				return
			}
			http.ServeContent(w, r, "x.raw.xz", time.Time{}, bytes.NewReader(body))
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	// A port that refuses connections.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()

	for _, tt := range []struct {
		name string
		body []byte
		ok   bool
	}{
		{"one mirror dead", image, true},
		{"corrupted bytes", append(bytes.Clone(image[:len(image)-5]), "XXXXX"...), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			live := serve(tt.body)
			mirrors := []metalink.Mirror{{Name: "dead", BaseURL: dead + "/atomic/", Country: "us", Priority: 1}, {Name: "live", BaseURL: live.URL + "/atomic/", Country: "de", Priority: 2}}
			urls := metalink.URLs(dead+"/atomic/stable/x.raw.xz", dead+"/atomic/", mirrors)
			data, err := metalink.Write("x.raw.xz", int64(len(image)), hex.EncodeToString(sum[:]), urls)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			ml := filepath.Join(dir, "x.raw.xz.meta4")
			os.WriteFile(ml, data, 0o644)
			out := filepath.Join(dir, "out")
			cmd := exec.Command(aria, "--no-conf", "--quiet", "--max-tries=2", "--retry-wait=0", "--connect-timeout=2", "--check-integrity=true", "-d", out, "-M", ml)
			msg, err := cmd.CombinedOutput()
			got, rerr := os.ReadFile(filepath.Join(out, "x.raw.xz"))
			switch {
			case tt.ok && err != nil:
				t.Fatalf("aria2c: %v\n%s", err, msg)
			case tt.ok && (rerr != nil || !bytes.Equal(got, image)):
				t.Fatalf("aria2c got %d bytes (%v), not the image", len(got), rerr)
			case !tt.ok && err == nil:
				t.Fatalf("aria2c accepted corrupted bytes\n%s", msg)
			case !tt.ok && rerr == nil && bytes.Equal(got, tt.body):
				t.Logf("aria2c failed, and left the corrupted bytes on disk under their name (%d bytes): a user who ignores its exit code has them", len(got))
			}
		})
	}
}
