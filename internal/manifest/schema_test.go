package manifest_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The JSON Schema in docs/ must agree with Parse: it accepts the example
// history and the Fedora CoreOS fixture, and rejects what Parse rejects
// where a schema can say so.
func TestSchemaAgreesWithParse(t *testing.T) {
	c := jsonschema.NewCompiler()
	sch, err := c.Compile("../../docs/release-manifest-v1.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	validate := func(data []byte) error {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return sch.Validate(doc)
	}
	files, _ := filepath.Glob("../../testdata/manifests/*/*.json")
	if len(files) == 0 {
		t.Fatal("no example manifests")
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if err := validate(data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if err := validate(realdata(t, "fcos-release.json")); err != nil {
		t.Errorf("fcos-release.json: %v", err)
	}
	for name, doc := range map[string]map[string]any{
		"unknown schema":         mutate(base(), set("schema", "atomic-release/v2")),
		"bad sha256":             mutate(base(), set(disk+".sha256", hexA[:63])),
		"location climbs out":    mutate(base(), set(disk+".location", "x86_64/../../a")),
		"location absolute path": mutate(base(), set(disk+".location", "/srv/a")),
		"failed without tracker": mutate(base(), set("status", "failed")),
		"release with slash":     mutate(base(), set("release", "a/b")),
		"reason not a URL":       mutate(revocation(), set("reason", "it broke")),
		"revocation no time":     mutate(revocation(), del("revoked-at")),
		"promoted-from no sha":   mutate(base(), set("promoted-from", map[string]any{"stream": "testing", "release": "28.1", "promoted-at": "2018-05-08T06:00:00Z"})),
	} {
		data, _ := json.Marshal(doc)
		if err := validate(data); err == nil {
			t.Errorf("%s: schema accepts %s", name, data)
		}
	}
}

func mutate(m map[string]any, f func(map[string]any)) map[string]any {
	f(m)
	return m
}
