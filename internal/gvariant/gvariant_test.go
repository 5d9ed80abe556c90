package gvariant

import (
	"bytes"
	"reflect"
	"testing"
)

// The examples of the GVariant specification, section 4.2, and a few of
// ostree's shapes, encoded by hand.
func TestDecode(t *testing.T) {
	for _, tt := range []struct {
		name string
		sig  string
		data []byte
		want any
	}{
		{"string", "s", []byte("hello world\x00"), "hello world"},
		{"maybe string", "ms", []byte("hello world\x00\x00"), "hello world"},
		{"nothing", "ms", nil, nil},
		{"array of bool", "ab", []byte{1, 0, 0, 1, 1}, []any{true, false, false, true, true}},
		{"array of strings", "as", []byte("i\x00can\x00has\x00strings?\x00\x02\x06\x0a\x13"), []any{"i", "can", "has", "strings?"}},
		{"array of tuples", "a(sy)", []byte("foo\x00\x01\x04bar\x00\x02\x04\x06\x0c"), []any{[]any{"foo", byte(1)}, []any{"bar", byte(2)}}},
		{"byte and int", "(yi)", []byte{0x70, 0, 0, 0, 0x60, 0, 0, 0}, []any{byte(0x70), int32(0x60)}},
		{"dict entry", "{si}", []byte("a key\x00\x00\x00\x04\x00\x00\x00\x06"), []any{"a key", int32(4)}},
		{"variant", "v", []byte{0x04, 0x00, 0x00, 0x00, 0x00, 'i'}, Variant{Type: "i", Data: []byte{4, 0, 0, 0}}},
		{"bytes", "ay", []byte{1, 2, 3}, []byte{1, 2, 3}},
		{"unit", "()", []byte{0}, []any{}},
		{"empty array", "as", nil, []any(nil)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.sig, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode(%q) = %#v, want %#v", tt.sig, got, tt.want)
			}
			enc, err := Encode(tt.sig, tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, tt.data) && !(len(enc) == 0 && len(tt.data) == 0) {
				t.Errorf("Encode(%q) = %q, want %q", tt.sig, enc, tt.data)
			}
		})
	}
}

// Malformed data is an error, never a panic or a made-up value.
func TestDecodeRefuses(t *testing.T) {
	for _, tt := range []struct {
		sig  string
		data []byte
	}{
		{"s", []byte("no nul")},
		{"s", []byte("a\x00b\x00")},
		{"i", []byte{1, 2}},
		{"b", []byte{2}},
		{"as", []byte("x\x00\xff")},
		{"(ss)", []byte("a\x00b\x00\x09")},
		{"v", []byte{1, 2, 3}},
		{"v", []byte{0, 'z'}},
		{"ai", []byte{1, 2, 3}},
	} {
		if v, err := Decode(tt.sig, tt.data); err == nil {
			t.Errorf("Decode(%q, %q) = %#v, want an error", tt.sig, tt.data, v)
		}
	}
	for _, sig := range []string{"", "(s", "z", "{vs}", "ii", "a", "{s}"} {
		if _, err := Decode(sig, nil); err == nil {
			t.Errorf("type %q accepted", sig)
		}
	}
}

// A tuple of several variable-size members, as ostree's commit has: the
// framing offsets at the end, the first member's last.
func TestTupleFraming(t *testing.T) {
	// (sayss): "ab", [1 2 3], "c", "last"
	var b bytes.Buffer
	b.WriteString("ab\x00")  // ends at 3
	b.Write([]byte{1, 2, 3}) // ends at 6
	b.WriteString("c\x00")   // ends at 8
	b.WriteString("last\x00")
	b.Write([]byte{8, 6, 3})
	got, err := Decode("(sayss)", b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"ab", []byte{1, 2, 3}, "c", "last"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	if enc, err := Encode("(sayss)", want); err != nil || !bytes.Equal(enc, b.Bytes()) {
		t.Errorf("Encode = %q, %v; want %q", enc, err, b.Bytes())
	}
}

// Containers past 255 bytes frame with wider offsets, as GLib chooses
// them; a value of the wrong Go type is an error.
func TestEncodeWide(t *testing.T) {
	long := string(bytes.Repeat([]byte("x"), 300))
	v := []any{[]any{long, []byte{1}}, []any{"b", []byte{2, 3}}}
	enc, err := Encode("a(say)", v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode("a(say)", enc)
	if err != nil || !reflect.DeepEqual(got, v) {
		t.Errorf("round trip: %#v, %v", got, err)
	}
	if _, err := Encode("(us)", []any{"x", "y"}); err == nil {
		t.Error("a string encoded as u")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("(a{sv}aya(say)sstayay)", []byte("x\x00\x01"))
	f.Add("(a(say)a(sayay))", []byte{})
	f.Add("a(s(taya{sv}))", []byte("abc\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, sig string, data []byte) {
		Decode(sig, data) // must not panic
	})
}
