package manifest

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestCheckShape(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 30) + "1" + strings.Repeat("}", 30)
	long := "[" + strings.Repeat("0,", 10000) + "0]"
	for _, tc := range []struct {
		name, doc, want string // want: the error's field and message; "" for none
	}{
		{"plain", `{"a": 1, "b": [1, {"c": "x"}], "d": {"a": true}}`, ""},
		{"same key in two objects", `{"a": {"k": 1}, "b": {"k": 2}}`, ""},
		{"strings with quotes and colons", `{"a": "x\"y:z,}", "b": "\\"}`, ""},
		{"duplicate", `{"a": 1, "b": 2, "a": 3}`, "a: appears twice"},
		{"escaped duplicate", `{"a": 1, "\u0061": 2}`, "a: appears twice"},
		{"duplicate deep in an array", `{"x": [{"k": 1}, {"k": 1, "k": 2}]}`, "x[1].k: appears twice"},
		{"too deep", deep, "nested more than 24 levels deep"},
		{"too long", `{"x": ` + long + `}`, "x: more than 10000 elements"},
		{"invalid UTF-8", "{\"a\": \"\xff\"}", "invalid UTF-8 at byte 7"},
		{"malformed is left to the decoder", `{"a": [1, 2}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkShape("f.json", []byte(tc.doc))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("checkShape: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("checkShape: %v, want %q", err, tc.want)
			}
		})
	}
}

func BenchmarkCheckShape(b *testing.B) {
	arch := `{"media":{"qemu":{"artifacts":{"qcow2":{"disk":{"location":"a","sha256":"b","size":1}}}}}}`
	doc := []byte(`{"stream":"stable","release":"28.1","architectures":{"x86_64":` + arch + `,"aarch64":` + arch + `,"ppc64le":` + arch + `}}`)
	for b.Loop() {
		checkShape("f.json", doc)
	}
}

func BenchmarkParseExample(b *testing.B) {
	data, err := os.ReadFile("../../testdata/manifests/stable/28.20180508.0.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("checkShape", func(b *testing.B) {
		for b.Loop() {
			checkShape("f.json", data)
		}
	})
	b.Run("Parse", func(b *testing.B) {
		for b.Loop() {
			Parse("stable/28.20180508.0.json", data)
		}
	})
}

// Past the keys an object's duplicates are found by scanning, a set finds
// them, however far apart.
func TestShapeManyKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"x": {`)
	for i := range 100 {
		fmt.Fprintf(&b, `"k%d": %d, `, i, i)
	}
	ok := b.String() + `"last": 0}}`
	if err := checkShape("m.json", []byte(ok)); err != nil {
		t.Errorf("100 distinct keys: %v", err)
	}
	for _, dup := range []string{"k3", "k99"} {
		if err := checkShape("m.json", []byte(b.String()+`"`+dup+`": 0}}`)); err == nil || !strings.Contains(err.Error(), "x."+dup+": appears twice") {
			t.Errorf("%s again after 100 keys: %v", dup, err)
		}
	}
}
