package manifest_test

import (
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/testkit/fixture"
)

const hexA = "a91e30ffc0126cecceaced79bb28ebfd5427d74236779e36419aa044b81cfda8"

// base returns a valid build manifest as a generic map, for tests to break.
func base() map[string]any {
	return map[string]any{
		"schema":     "atomic-release/v1",
		"stream":     "stable",
		"release":    "22.20150616.0",
		"build-date": "2015-06-16T04:10:00Z",
		"status":     "released",
		"ostree":     map[string]any{"repo": "https://dl.example.org/atomic/repo", "ref": "fedora-atomic/f22/x86_64/docker-host", "commit": hexA},
		"architectures": map[string]any{
			"x86_64": map[string]any{
				"media": map[string]any{
					"qemu": map[string]any{"artifacts": map[string]any{
						"qcow2": map[string]any{"disk": map[string]any{"location": "https://dl.example.org/a.qcow2", "size": 642151936, "sha256": hexA}},
					}},
					"metal": map[string]any{"artifacts": map[string]any{
						"pxe": map[string]any{
							"kernel":    map[string]any{"location": "x86_64/vmlinuz", "sha256": hexA},
							"initramfs": map[string]any{"location": "x86_64/initramfs.img", "sha256": hexA},
						},
					}},
					"aws": map[string]any{"images": map[string]any{"us-east-1": map[string]any{"image": "ami-0abc1234"}}},
				},
			},
		},
	}
}

func revocation() map[string]any {
	return map[string]any{
		"schema":     "atomic-revocation/v1",
		"stream":     "stable",
		"release":    "22.20150616.0",
		"reason":     "https://bugzilla.example.org/show_bug.cgi?id=7654321",
		"revoked-at": "2015-06-20T09:00:00Z",
	}
}

// at walks a dotted path of map keys and returns the map holding the last.
func at(m map[string]any, path string) (map[string]any, string) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		m = m[k].(map[string]any)
	}
	return m, keys[len(keys)-1]
}

func set(path string, v any) func(map[string]any) {
	return func(m map[string]any) { p, k := at(m, path); p[k] = v }
}

func del(path string) func(map[string]any) {
	return func(m map[string]any) { p, k := at(m, path); delete(p, k) }
}

const disk = "architectures.x86_64.media.qemu.artifacts.qcow2.disk"

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name      string
		file      string // default stable/22.20150616.0.json
		doc       func() map[string]any
		change    func(map[string]any)
		wantField string
		wantMsg   string
	}{
		{"unknown schema", "", base, set("schema", "atomic-release/v2"), "schema", "unknown schema"},
		{"schema not a string", "", base, set("schema", 1), "schema", "want a JSON string, found number"},
		{"missing stream", "", base, del("stream"), "stream", "required"},
		{"missing release", "", base, del("release"), "release", "required"},
		{"release with slash", "", base, set("release", "22/../x"), "release", "only letters"},
		{"release climbing", "", base, set("release", "..x"), "release", "only letters"},
		{"bad status", "", base, set("status", "passed"), "status", "is not"},
		{"failed without tracker", "", base, set("status", "failed"), "failure-tracker", "required when status"},
		{"tracker not a URL", "", base, set("failure-tracker", "bug 1234"), "failure-tracker", "not an absolute http(s) URL"},
		{"tests not a URL", "", base, set("tests", "ftp://x/y"), "tests", "not an absolute http(s) URL"},
		{"bad build-date", "", base, set("build-date", "16 June 2015"), "", "want RFC 3339"},
		{"no date anywhere", "", base, func(m map[string]any) { delete(m, "build-date"); m["release"] = "22.1" }, "build-date", "no YYYYMMDD date"},
		{"released without architectures", "", base, del("architectures"), "architectures", "at least one"},
		{"sha256 too short", "", base, set(disk+".sha256", hexA[:63]), disk + ".sha256", "64 lowercase hex"},
		{"sha256 not hex", "", base, set(disk+".sha256", strings.Repeat("g", 64)), disk + ".sha256", "64 lowercase hex"},
		{"sha256 missing", "", base, del(disk + ".sha256"), disk + ".sha256", "64 lowercase hex"},
		{"uncompressed sha256 bad", "", base, set(disk+".uncompressed-sha256", "xyz"), disk + ".uncompressed-sha256", "64 lowercase hex"},
		{"ostree commit bad", "", base, set("ostree.commit", "abc"), "ostree.commit", "64 lowercase hex"},
		{"ostree ref missing", "", base, del("ostree.ref"), "ostree.ref", "non-empty"},
		{"location missing", "", base, del(disk + ".location"), disk + ".location", "required"},
		{"location climbs out", "", base, set(disk+".location", "x86_64/../../other/a.qcow2"), disk + ".location", "climbs out"},
		{"location is ..", "", base, set(disk+".location", ".."), disk + ".location", "climbs out"},
		{"location absolute path", "", base, set(disk+".location", "/srv/a.qcow2"), disk + ".location", "below the stream directory"},
		{"location other scheme", "", base, set(disk+".location", "file:///etc/passwd"), disk + ".location", "not an absolute http(s) URL"},
		{"signature climbs out", "", base, set(disk+".signature", "../a.sig"), disk + ".signature", "climbs out"},
		{"negative size", "", base, set(disk+".size", -1), disk + ".size", "negative"},
		{"size a string", "", base, set(disk+".size", "12"), disk + ".size", "want a JSON number, found string"},
		{"format with no files", "", base, set("architectures.x86_64.media.qemu.artifacts.qcow2", map[string]any{}), "architectures.x86_64.media.qemu.artifacts.qcow2", "names no files"},
		{"image missing", "", base, set("architectures.x86_64.media.aws.images.us-east-1", map[string]any{}), "architectures.x86_64.media.aws.images.us-east-1.image", "required"},
		{"bad arch name", "", base, func(m map[string]any) {
			a := m["architectures"].(map[string]any)
			a["x86 64"] = a["x86_64"]
		}, "architectures.x86 64", "only letters"},
		{"revocation schema in build file", "", revocation, nil, "schema", "belongs in a file named"},
		{"build schema in revocation file", "stable/22.20150616.0.revoked.json", base, nil, "schema", "must be \"atomic-revocation/v1\""},
		{"revocation without reason", "stable/r.revoked.json", revocation, del("reason"), "reason", "required"},
		{"revocation reason not a URL", "stable/r.revoked.json", revocation, set("reason", "it broke"), "reason", "not an absolute http(s) URL"},
		{"revocation without time", "stable/r.revoked.json", revocation, del("revoked-at"), "revoked-at", "required"},
		{"revocation without release", "stable/r.revoked.json", revocation, del("release"), "release", "required"},
		{"revocation without schema", "stable/r.revoked.json", revocation, del("schema"), "schema", "must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := tt.doc()
			if tt.change != nil {
				tt.change(doc)
			}
			data, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			file := tt.file
			if file == "" {
				file = "stable/22.20150616.0.json"
			}
			_, err = manifest.Parse(file, data)
			if err == nil {
				t.Fatalf("Parse(%s) succeeded, want an error about %q", data, tt.wantField)
			}
			if !errors.Is(err, manifest.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, file+": ") {
				t.Errorf("error %q does not start with the file name %q", msg, file)
			}
			var fe *manifest.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.wantField {
				t.Errorf("error %q: field = %q, want %q", msg, fe.Field, tt.wantField)
			}
			if !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("error %q does not say %q", msg, tt.wantMsg)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q is more than one line", msg)
			}
		})
	}
}

func TestParseRejectsMalformed(t *testing.T) {
	for name, data := range map[string]string{
		"empty":           "",
		"not JSON":        "release: 22",
		"array":           "[]",
		"trailing data":   `{"stream":"s","release":"22.20150616.0","architectures":{}} {}`,
		"truncated":       `{"stream":"s",`,
		"null":            "null",
		"arch not object": `{"stream":"s","release":"22.20150616.0","architectures":{"x86_64":3}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := manifest.Parse("s/x.json", []byte(data)); err == nil {
				t.Fatalf("Parse(%q) succeeded", data)
			} else if !strings.HasPrefix(err.Error(), "s/x.json") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// A file that is not JSON says so, and where: a truncated one, and one
// broken part way.
func TestParseSaysWhereJSONBreaks(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"{\n  \"stream\": \"s\",\n  \"release\": \"2", "s/x.json: not valid JSON: it ends at line 3, column 15, before the JSON does (a truncated file?)"},
		{"{\n  \"stream\": \"s\",\n  \"release\" \"22\"\n}", "s/x.json: not valid JSON at line 3, column 13: invalid character '\"' after object key"},
		{"", "s/x.json: the file is empty"},
		{"\n \n", "s/x.json: the file is empty"},
	} {
		_, err := manifest.Parse("s/x.json", []byte(tc.data))
		if err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%q): %v\nwant %s", tc.data, err, tc.want)
		}
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name   string
		change func(map[string]any)
		check  func(*testing.T, *manifest.Build)
	}{
		{"as is", nil, func(t *testing.T, b *manifest.Build) {
			if b.Status != manifest.StatusReleased || b.Failed() {
				t.Errorf("status = %q", b.Status)
			}
			if want := time.Date(2015, 6, 16, 4, 10, 0, 0, time.UTC); !b.Date.Equal(want) {
				t.Errorf("date = %v, want %v", b.Date, want)
			}
			if got := *b.Architectures["x86_64"].Media["qemu"].Artifacts["qcow2"]["disk"].Size; got != 642151936 {
				t.Errorf("size = %d", got)
			}
		}},
		{"status absent means released", del("status"), func(t *testing.T, b *manifest.Build) {
			if b.Status != manifest.StatusReleased {
				t.Errorf("status = %q, want released", b.Status)
			}
		}},
		{"schema absent is a build", del("schema"), nil},
		{"date from release", del("build-date"), func(t *testing.T, b *manifest.Build) {
			if want := time.Date(2015, 6, 16, 0, 0, 0, 0, time.UTC); !b.Date.Equal(want) {
				t.Errorf("date = %v, want %v", b.Date, want)
			}
		}},
		{"failed with tracker, no artifacts", func(m map[string]any) {
			m["status"] = "failed"
			m["failure-tracker"] = "https://bugzilla.example.org/show_bug.cgi?id=1"
			delete(m, "architectures")
		}, func(t *testing.T, b *manifest.Build) {
			if !b.Failed() {
				t.Error("not failed")
			}
		}},
		{"unknown fields are kept out of the way", set("x-pipeline", map[string]any{"job": 1}), nil},
		{"relative location with dots in names", set(disk+".location", "x86_64/a..b.qcow2"), nil},
		{"build-date with offset", set("build-date", "2015-06-16T06:10:00+02:00"), func(t *testing.T, b *manifest.Build) {
			if b.Date.Location() != time.UTC || b.Date.Hour() != 4 {
				t.Errorf("date = %v, want 04:10 UTC", b.Date)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := base()
			if tt.change != nil {
				tt.change(doc)
			}
			data, _ := json.Marshal(doc)
			b, err := manifest.ParseBuild("stable/22.20150616.0.json", data)
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, b)
			}
		})
	}
}

func TestParseRevocation(t *testing.T) {
	data, _ := json.Marshal(revocation())
	f, err := manifest.Parse("stable/22.20150616.0.revoked.json", data)
	if err != nil {
		t.Fatal(err)
	}
	r := f.Revocation
	if f.Build != nil || r == nil {
		t.Fatalf("got %+v, want a revocation", f)
	}
	if r.Stream != "stable" || r.Release != "22.20150616.0" || !strings.Contains(r.Reason, "7654321") ||
		!r.RevokedAt.Equal(time.Date(2015, 6, 20, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("revocation = %+v", r)
	}
}

// The Fedora CoreOS release.json, unmodified, is a released build.
func TestFedoraCoreOSRelease(t *testing.T) {
	data := realdata(t, "fcos-release.json")
	b, err := manifest.ParseBuild("stable/33.20201201.3.0.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if b.Stream != "stable" || b.Release != "33.20201201.3.0" || b.Status != manifest.StatusReleased {
		t.Errorf("stream/release/status = %s/%s/%s", b.Stream, b.Release, b.Status)
	}
	if want := time.Date(2020, 12, 1, 0, 0, 0, 0, time.UTC); !b.Date.Equal(want) {
		t.Errorf("date = %v, want %v", b.Date, want)
	}
	x := b.Architectures["x86_64"]
	if x == nil || x.Commit != "cad80088392fe43bd3cadf0481c3267f199afa7d9f83bc03937ffdbf5ebbc6da" {
		t.Fatalf("x86_64 commit = %+v", x)
	}
	pxe := x.Media["metal"].Artifacts["pxe"]
	if len(pxe) != 3 || pxe["kernel"].SHA256 == "" || pxe["kernel"].Size != nil {
		t.Errorf("metal pxe = %+v", pxe)
	}
	if got := len(x.Media["aws"].Images); got < 20 {
		t.Errorf("aws images = %d, want the 20 regions", got)
	}
	if x.OCIImage == nil || !strings.HasPrefix(x.OCIImage.DigestRef, "quay.io/fedora/fedora-coreos@sha256:") {
		t.Errorf("oci-image = %+v", x.OCIImage)
	}
}

func TestDateFromRelease(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
	}{
		{"22.20150616.0", "2015-06-16"},
		{"33.20201201.3.0", "2020-12-01"},
		{"28.20181301.0", ""},
		{"28", ""},
		{"28.2018061.0", ""},
	} {
		d, ok := manifest.DateFromRelease(tt.in)
		got := ""
		if ok {
			got = d.Format("2006-01-02")
		}
		if got != tt.want {
			t.Errorf("DateFromRelease(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// realdata reads a file from testdata/realdata: files other Fedora
// projects wrote.
func realdata(t testing.TB, name string) []byte { return fixture.Realdata(t, name) }

func TestPromotedFrom(t *testing.T) {
	good := map[string]any{"stream": "testing", "release": "28.1", "sha256": hexA, "promoted-at": "2018-05-08T06:00:00Z"}
	for _, tc := range []struct {
		name  string
		field string // the error names it; empty: valid
		edit  func(p map[string]any)
	}{
		{"valid", "", func(map[string]any) {}},
		{"own stream", "promoted-from.stream", func(p map[string]any) { p["stream"] = "stable" }},
		{"bad sha256", "promoted-from.sha256", func(p map[string]any) { p["sha256"] = "abc" }},
		{"no time", "promoted-from.promoted-at", func(p map[string]any) { delete(p, "promoted-at") }},
		{"release climbs", "promoted-from.release", func(p map[string]any) { p["release"] = "../x" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := maps.Clone(good)
			tc.edit(p)
			doc := base()
			doc["promoted-from"] = p
			data, _ := json.Marshal(doc)
			f, err := manifest.Parse("stable/28.1.json", data)
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tc.field == "" && !f.Build.PromotedFrom.PromotedAt.Equal(time.Date(2018, 5, 8, 6, 0, 0, 0, time.UTC)):
				t.Errorf("promoted-at = %v", f.Build.PromotedFrom.PromotedAt)
			case tc.field != "" && (err == nil || !strings.Contains(err.Error(), "stable/28.1.json: "+tc.field+": ")):
				t.Errorf("Parse: %v, want an error naming %s", err, tc.field)
			}
		})
	}
}
