// Package gvariant reads GLib's GVariant serialization format, as ostree
// writes its commit, dirtree, dirmeta and summary objects. No maintained Go
// library does; this one decodes only, whole values at a time, and refuses
// what does not fit its type (GLib would read such data as default values,
// but a mirror that checks objects should say they are malformed).
//
// The format: https://developer.gnome.org/documentation/specifications/gvariant-specification-1.0.html
package gvariant

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Variant is a value of type v: its own type string, and its bytes, not
// decoded.
type Variant struct {
	Type string
	Data []byte
}

// Decode reads data as a value of the type sig and returns it as Go values:
// byte, bool, int16, uint16, int32, uint32, int64, uint64, float64 for the
// basic types (in little-endian order; ostree stores some big-endian
// numbers, which the caller swaps), string for s, o and g, []byte for ay,
// []any for other arrays and for tuples and dict entries, Variant for v,
// and nil or the value for a maybe.
func Decode(sig string, data []byte) (any, error) {
	t, rest, err := parseType(sig)
	if err != nil {
		return nil, err
	}
	if rest != "" {
		return nil, fmt.Errorf("gvariant: type %q: more than one type", sig)
	}
	return t.decode(data)
}

type typ struct {
	kind   byte
	elem   *typ   // a, m
	fields []*typ // ( and {
	align  int
	fixed  int // the size of a fixed-size type; 0 for a variable one
}

var basic = map[byte]struct{ size int }{
	'y': {1}, 'b': {1}, 'n': {2}, 'q': {2}, 'i': {4}, 'u': {4}, 'h': {4}, 'x': {8}, 't': {8}, 'd': {8},
}

// maxDepth bounds nesting, so that a hostile type string cannot exhaust
// the stack.
const maxDepth = 32

func parseType(sig string) (*typ, string, error) { return parseTypeDepth(sig, 0) }

func parseTypeDepth(sig string, depth int) (*typ, string, error) {
	if depth > maxDepth {
		return nil, "", errors.New("gvariant: type nested too deep")
	}
	if sig == "" {
		return nil, "", errors.New("gvariant: empty type")
	}
	c := sig[0]
	if b, ok := basic[c]; ok {
		return &typ{kind: c, align: b.size, fixed: b.size}, sig[1:], nil
	}
	switch c {
	case 's', 'o', 'g':
		return &typ{kind: c, align: 1}, sig[1:], nil
	case 'v':
		return &typ{kind: c, align: 8}, sig[1:], nil
	case 'a', 'm':
		e, rest, err := parseTypeDepth(sig[1:], depth+1)
		if err != nil {
			return nil, "", err
		}
		return &typ{kind: c, elem: e, align: e.align}, rest, nil
	case '(', '{':
		end := byte(')')
		if c == '{' {
			end = '}'
		}
		t := &typ{kind: c, align: 1}
		rest := sig[1:]
		for {
			if rest == "" {
				return nil, "", fmt.Errorf("gvariant: type %q: unclosed %c", sig, c)
			}
			if rest[0] == end {
				rest = rest[1:]
				break
			}
			f, r, err := parseTypeDepth(rest, depth+1)
			if err != nil {
				return nil, "", err
			}
			t.fields = append(t.fields, f)
			t.align = max(t.align, f.align)
			rest = r
		}
		if c == '{' && (len(t.fields) != 2 || t.fields[0].elem != nil || t.fields[0].fields != nil || t.fields[0].kind == 'v') {
			return nil, "", fmt.Errorf("gvariant: type %q: a dict entry is a basic key and a value", sig)
		}
		t.fixed = fixedSize(t)
		return t, rest, nil
	}
	return nil, "", fmt.Errorf("gvariant: type %q: unknown type %q", sig, c)
}

// fixedSize is the size of a tuple whose members are all of fixed size: its
// members laid out with their alignment, padded to its own; the unit tuple
// takes one byte. 0 if any member is of variable size.
func fixedSize(t *typ) int {
	off := 0
	for _, f := range t.fields {
		if f.fixed == 0 {
			return 0
		}
		off = alignUp(off, f.align) + f.fixed
	}
	if off == 0 {
		return 1
	}
	return alignUp(off, t.align)
}

func alignUp(n, a int) int { return (n + a - 1) &^ (a - 1) }

// offsetSize is the width of the framing offsets of a container of n bytes.
func offsetSize(n int) int {
	switch {
	case n <= 0xff:
		return 1
	case n <= 0xffff:
		return 2
	case uint64(n) <= 0xffffffff:
		return 4
	}
	return 8
}

func readOffset(b []byte) int {
	var v uint64
	switch len(b) {
	case 1:
		v = uint64(b[0])
	case 2:
		v = uint64(binary.LittleEndian.Uint16(b))
	case 4:
		v = uint64(binary.LittleEndian.Uint32(b))
	default:
		v = binary.LittleEndian.Uint64(b)
	}
	if v > 1<<62 {
		return -1
	}
	return int(v)
}

var errShape = errors.New("gvariant: data does not fit its type")

func (t *typ) decode(d []byte) (any, error) {
	if t.fixed > 0 && len(d) != t.fixed {
		return nil, fmt.Errorf("%w: %d bytes for a %d-byte %c", errShape, len(d), t.fixed, t.kind)
	}
	switch t.kind {
	case 'y':
		return d[0], nil
	case 'b':
		if d[0] > 1 {
			return nil, fmt.Errorf("%w: boolean %d", errShape, d[0])
		}
		return d[0] == 1, nil
	case 'n':
		return int16(binary.LittleEndian.Uint16(d)), nil
	case 'q':
		return binary.LittleEndian.Uint16(d), nil
	case 'i', 'h':
		return int32(binary.LittleEndian.Uint32(d)), nil
	case 'u':
		return binary.LittleEndian.Uint32(d), nil
	case 'x':
		return int64(binary.LittleEndian.Uint64(d)), nil
	case 't':
		return binary.LittleEndian.Uint64(d), nil
	case 'd':
		return math.Float64frombits(binary.LittleEndian.Uint64(d)), nil
	case 's', 'o', 'g':
		if len(d) == 0 || d[len(d)-1] != 0 {
			return nil, fmt.Errorf("%w: a string without its NUL", errShape)
		}
		for _, c := range d[:len(d)-1] {
			if c == 0 {
				return nil, fmt.Errorf("%w: a NUL inside a string", errShape)
			}
		}
		return string(d[:len(d)-1]), nil
	case 'v':
		for i := len(d) - 1; i >= 0; i-- {
			if d[i] == 0 {
				sig := string(d[i+1:])
				if _, rest, err := parseType(sig); err != nil || rest != "" {
					return nil, fmt.Errorf("%w: variant of type %q", errShape, sig)
				}
				return Variant{Type: sig, Data: d[:i]}, nil
			}
		}
		return nil, fmt.Errorf("%w: a variant without its type", errShape)
	case 'm':
		if len(d) == 0 {
			return nil, nil
		}
		if t.elem.fixed > 0 {
			return t.elem.decode(d)
		}
		return t.elem.decode(d[:len(d)-1])
	case 'a':
		return t.array(d)
	}
	return t.tuple(d)
}

func (t *typ) array(d []byte) (any, error) {
	e := t.elem
	if e.kind == 'y' {
		return d, nil
	}
	var out []any
	if e.fixed > 0 {
		if len(d)%e.fixed != 0 {
			return nil, fmt.Errorf("%w: %d bytes for elements of %d", errShape, len(d), e.fixed)
		}
		for i := 0; i < len(d); i += e.fixed {
			v, err := e.decode(d[i : i+e.fixed])
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	if len(d) == 0 {
		return out, nil
	}
	osz := offsetSize(len(d))
	if len(d) < osz {
		return nil, fmt.Errorf("%w: array shorter than its framing", errShape)
	}
	last := readOffset(d[len(d)-osz:])
	if last < 0 || last > len(d)-osz || (len(d)-last)%osz != 0 {
		return nil, fmt.Errorf("%w: array framing", errShape)
	}
	n := (len(d) - last) / osz
	start := 0
	for i := range n {
		end := readOffset(d[last+i*osz : last+(i+1)*osz])
		start = alignUp(start, e.align)
		if end < start || end > last {
			return nil, fmt.Errorf("%w: array element %d framing", errShape, i)
		}
		v, err := e.decode(d[start:end])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		start = end
	}
	return out, nil
}

// tuple reads members in order; each variable-size member but the last
// ends where a framing offset says, and the offsets are stored at the
// tuple's end, the first member's last.
func (t *typ) tuple(d []byte) (any, error) {
	osz := offsetSize(len(d))
	off, frames := 0, 0
	out := make([]any, 0, len(t.fields))
	for i, f := range t.fields {
		off = alignUp(off, f.align)
		var end int
		switch {
		case f.fixed > 0:
			end = off + f.fixed
		case i == len(t.fields)-1:
			end = len(d) - frames*osz
		default:
			frames++
			at := len(d) - frames*osz
			if at < 0 {
				return nil, fmt.Errorf("%w: tuple framing", errShape)
			}
			end = readOffset(d[at : at+osz])
		}
		if end < off || end > len(d) {
			return nil, fmt.Errorf("%w: tuple member %d", errShape, i)
		}
		v, err := f.decode(d[off:end])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		off = end
	}
	return out, nil
}
