package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"time"
)

// Parse reads one manifest file. name is used in errors and decides nothing
// but this: a name ending in ".revoked.json" must hold a revocation, any
// other must hold a build. The schema field says which is which; a file
// without one is read as a build, which is how a Fedora CoreOS release.json
// is a valid manifest as it stands.
func Parse(name string, data []byte) (*File, error) {
	// One decode into a build serves both kinds: a revocation shares its
	// identifying fields, and it is the rare case that decodes again.
	var b Build
	if err := decodeStrict(name, data, &b); err != nil {
		return nil, err
	}
	wantRevocation := strings.HasSuffix(name, RevocationSuffix)
	switch {
	case b.Schema == RevocationSchema:
		if !wantRevocation {
			return nil, invalid(name, "schema", "%q belongs in a file named <release>%s", b.Schema, RevocationSuffix)
		}
		r, err := parseRevocation(name, data)
		if err != nil {
			return nil, err
		}
		return &File{Name: name, Revocation: r}, nil
	case wantRevocation:
		return nil, invalid(name, "schema", "must be %q in a revocation file", RevocationSchema)
	case b.Schema == BuildSchema || b.Schema == "":
		if err := validateBuild(name, &b); err != nil {
			return nil, err
		}
		return &File{Name: name, Build: &b}, nil
	default:
		return nil, invalid(name, "schema", "unknown schema %q (want %q or %q)", b.Schema, BuildSchema, RevocationSchema)
	}
}

// ParseBuild is Parse for a file that must hold a build.
func ParseBuild(name string, data []byte) (*Build, error) {
	f, err := Parse(name, data)
	if err != nil {
		return nil, err
	}
	if f.Build == nil {
		return nil, invalid(name, "schema", "want a build manifest, found a revocation")
	}
	return f.Build, nil
}

func decodeStrict(name string, data []byte, v any) error {
	if err := checkShape(name, data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return invalid(name, fullPath(data, te), "want a JSON %s, found %s", goKindToJSON(te.Type.Kind()), te.Value)
		}
		var pe *time.ParseError
		if errors.As(err, &pe) {
			return invalid(name, "", "bad time %q: want RFC 3339, like 2015-06-16T04:10:00Z", pe.Value)
		}
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			// Offset counts the offending byte; report that byte.
			line, col := lineCol(data, int(se.Offset)-1)
			return invalid(name, "", "not valid JSON at line %d, column %d: %v", line, col, err)
		case len(bytes.TrimSpace(data)) == 0:
			return invalid(name, "", "the file is empty")
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			line, col := lineCol(data, len(data)-1)
			return invalid(name, "", "not valid JSON: it ends at line %d, column %d, before the JSON does (a truncated file?)", line, col)
		}
		return invalid(name, "", "%v", err)
	}
	if dec.More() {
		return invalid(name, "", "extra data after the JSON object")
	}
	return nil
}

// lineCol is the line and column (both from 1, the column in bytes) of
// the byte at offset off in data.
func lineCol(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = off - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

// fullPath puts back the map keys (architecture, platform, format names)
// that encoding/json leaves out of a type error's field path, by finding
// the first value of the wrong kind along that path in the document.
func fullPath(data []byte, te *json.UnmarshalTypeError) string {
	var doc any
	if te.Field == "" || json.Unmarshal(data, &doc) != nil {
		return te.Field
	}
	var walk func(node any, fields []string, path string) (string, bool)
	walk = func(node any, fields []string, path string) (string, bool) {
		if len(fields) == 0 {
			return path, jsonKind(node) == te.Value
		}
		m, ok := node.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok := m[fields[0]]; ok {
			return walk(v, fields[1:], joinPath(path, fields[0]))
		}
		for _, k := range sortedKeys(m) { // a map level the field path skips
			if p, ok := walk(m[k], fields, joinPath(path, k)); ok {
				return p, true
			}
		}
		return "", false
	}
	if p, ok := walk(doc, strings.Split(te.Field, "."), ""); ok {
		return p
	}
	return te.Field
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func goKindToJSON(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "number"
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

func parseRevocation(name string, data []byte) (*Revocation, error) {
	var r Revocation
	if err := decodeStrict(name, data, &r); err != nil {
		return nil, err
	}
	v := validator{file: name}
	v.id("stream", r.Stream)
	v.id("release", r.Release)
	if r.Reason == "" {
		v.fail("reason", "required: the URL that says why the build was withdrawn")
	} else {
		v.optionalURL("reason", r.Reason)
	}
	if r.RevokedAt.IsZero() {
		v.fail("revoked-at", "required (RFC 3339 time)")
	}
	r.RevokedAt = r.RevokedAt.UTC()
	if v.err != nil {
		return nil, v.err
	}
	return &r, nil
}
