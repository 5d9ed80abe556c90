package announce_test

import (
	"bytes"
	"flag"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"path/filepath"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/announce"
	"github.com/projectatomic/atomic-site/internal/release"
	"github.com/projectatomic/atomic-site/internal/testkit/fixture"
	"github.com/projectatomic/atomic-site/internal/testkit/golden"
	"github.com/projectatomic/atomic-site/internal/view"
)

var now = fixture.ExampleNow

// raw is the announcement of one build of the example history.
func raw(t *testing.T, stream, rel string) []byte {
	t.Helper()
	state, cfg := fixture.ExampleState(t)
	st := state.Stream(stream)
	var b *release.Build
	for _, x := range st.Builds {
		if x.Release == rel {
			b = x
		}
	}
	sv, err := view.NewStream(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	bv, err := view.NewBuild(st, b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := announce.Message(sv, bv, cfg, announce.Options{From: cfg.AnnounceFrom, To: cfg.AnnounceTo, Date: now})
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func message(t *testing.T, stream, rel string) (*mail.Message, map[string]string) {
	t.Helper()
	raw, again := raw(t, stream, rel), raw(t, stream, rel)
	if !bytes.Equal(raw, again) {
		t.Error("the same release gives different messages")
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	parts := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p) // quoted-printable, decoded by the reader
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts[ct] = string(body)
	}
	return msg, parts
}

func TestAnnouncement(t *testing.T) {
	msg, parts := message(t, "stable", "28.20180508.0")
	if from, err := mail.ParseAddress(msg.Header.Get("From")); err != nil || from.Address != "atomic-devel@lists.projectatomic.io" {
		t.Errorf("From: %v %v", from, err)
	}
	if _, err := mail.ParseAddressList(msg.Header.Get("To")); err != nil {
		t.Errorf("To: %v", err)
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(now) {
		t.Errorf("Date: %v %v", d, err)
	}
	if got := msg.Header.Get("Subject"); got != "[Fedora Atomic Host 28] 28.20180508.0 released" {
		t.Errorf("Subject: %q", got)
	}
	if msg.Header.Get("Message-ID") == "" || msg.Header.Get("MIME-Version") != "1.0" {
		t.Error("no Message-ID or MIME-Version")
	}
	text, html := parts["text/plain"], parts["text/html"]
	for _, want := range []string{
		"was released on 2018-05-08",
		"qemu qcow2: 579.5 MiB (607637668 bytes)",
		"sha256 748aa4ac852971d5d8d921216d203554159da9efd19749e4613b09d5ef687627",
		"sha256sum -c --ignore-missing CHECKSUM",
		"https://atomic.fedoraproject.org/streams/stable/28.20180508.0/CHECKSUM",
		"rpm-ostree rebase fedora-atomic:fedora/28/x86_64/atomic-host",
		"build 28.20180522.0 of this stream was withdrawn on 2018-05-24: https://bugzilla.redhat.com/show_bug.cgi?id=1581234",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q", want)
		}
	}
	for _, want := range []string{
		"<code>748aa4ac852971d5d8d921216d203554159da9efd19749e4613b09d5ef687627</code>",
		"&lt;script&gt;alert('notes are escaped')&lt;/script&gt;",
		`<th scope="col">Size</th>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML part lacks %q", want)
		}
	}
	if strings.Contains(html, "<script>") {
		t.Error("raw HTML from the notes reached the HTML part")
	}
}

func TestAnnouncementOfMarkdownNotes(t *testing.T) {
	_, parts := message(t, "stable", "28.20180425.0")
	if !strings.Contains(parts["text/html"], "<strong>Fedora Atomic Host 28</strong>") {
		t.Errorf("Markdown not rendered:\n%s", parts["text/html"])
	}
}

func TestAnnouncementOfRevokedBuild(t *testing.T) {
	msg, parts := message(t, "stable", "28.20180522.0")
	if got := msg.Header.Get("Subject"); got != "[Fedora Atomic Host 28] 28.20180522.0 withdrawn" {
		t.Errorf("Subject: %q", got)
	}
	if !strings.Contains(parts["text/plain"], "has been WITHDRAWN (2018-05-24)") ||
		!strings.Contains(parts["text/plain"], "Download 28.20180508.0 instead: https://atomic.fedoraproject.org/streams/stable/28.20180508.0/") {
		t.Errorf("text part:\n%s", parts["text/plain"])
	}
}

var update = flag.Bool("update", false, "rewrite testdata/golden")

// TestGolden compares the announcement of every build of the example
// history that passed its tests with testdata/golden/STREAM_RELEASE.eml.golden.
// Run with -update to rewrite them, and review the diff.
func TestGolden(t *testing.T) {
	got := map[string][]byte{}
	for _, b := range []struct{ stream, release string }{
		{"stable", "28.20180425.0"},
		{"stable", "28.20180508.0"},
		{"stable", "28.20180522.0"}, // revoked
		{"testing", "28.20180515.1"},
		{"testing", "28.20180604.1"},
	} {
		got[b.stream+"_"+b.release+".eml"] = raw(t, b.stream, b.release)
	}
	golden.Check(t, filepath.Join("testdata", "golden"), got, *update)
}
