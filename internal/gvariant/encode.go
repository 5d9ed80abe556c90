package gvariant

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Encode writes v, a Go value of the shape Decode returns for sig, in the
// GVariant serialization: Encode(sig, Decode(sig, data)) gives data back
// for data in normal form. ostree needs it to compute a file object's
// checksum, which is over a header the .filez object stores in another
// shape.
func Encode(sig string, v any) ([]byte, error) {
	t, rest, err := parseType(sig)
	if err != nil {
		return nil, err
	}
	if rest != "" {
		return nil, fmt.Errorf("gvariant: type %q: more than one type", sig)
	}
	return t.encode(nil, v)
}

func errValue(t *typ, v any) error {
	return fmt.Errorf("gvariant: a %T is not a value of type %c", v, t.kind)
}

// encode appends v to b. Alignment is relative to the start of the
// innermost container, so containers encode their members into a buffer
// of their own.
func (t *typ) encode(b []byte, v any) ([]byte, error) {
	le := binary.LittleEndian
	ok := true
	switch t.kind {
	case 'y':
		var x byte
		x, ok = v.(byte)
		b = append(b, x)
	case 'b':
		var x bool
		x, ok = v.(bool)
		if x {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	case 'n':
		var x int16
		x, ok = v.(int16)
		b = le.AppendUint16(b, uint16(x))
	case 'q':
		var x uint16
		x, ok = v.(uint16)
		b = le.AppendUint16(b, x)
	case 'i', 'h':
		var x int32
		x, ok = v.(int32)
		b = le.AppendUint32(b, uint32(x))
	case 'u':
		var x uint32
		x, ok = v.(uint32)
		b = le.AppendUint32(b, x)
	case 'x':
		var x int64
		x, ok = v.(int64)
		b = le.AppendUint64(b, uint64(x))
	case 't':
		var x uint64
		x, ok = v.(uint64)
		b = le.AppendUint64(b, x)
	case 'd':
		var x float64
		x, ok = v.(float64)
		b = le.AppendUint64(b, math.Float64bits(x))
	case 's', 'o', 'g':
		var x string
		x, ok = v.(string)
		b = append(append(b, x...), 0)
	case 'v':
		var x Variant
		x, ok = v.(Variant)
		b = append(append(append(b, x.Data...), 0), x.Type...)
	case 'm':
		if v == nil {
			return b, nil
		}
		var err error
		if b, err = t.elem.encode(b, v); err != nil {
			return nil, err
		}
		if t.elem.fixed == 0 {
			b = append(b, 0)
		}
	case 'a':
		return t.encodeArray(b, v)
	default:
		return t.encodeTuple(b, v)
	}
	if !ok {
		return nil, errValue(t, v)
	}
	return b, nil
}

func (t *typ) encodeArray(b []byte, v any) ([]byte, error) {
	if t.elem.kind == 'y' {
		x, ok := v.([]byte)
		if !ok {
			return nil, errValue(t, v)
		}
		return append(b, x...), nil
	}
	elems, ok := v.([]any)
	if !ok {
		return nil, errValue(t, v)
	}
	var body []byte
	var ends []int
	for _, e := range elems {
		body = pad(body, t.elem.align)
		var err error
		if body, err = t.elem.encode(body, e); err != nil {
			return nil, err
		}
		ends = append(ends, len(body))
	}
	if t.elem.fixed > 0 {
		return append(b, body...), nil
	}
	return appendFramed(b, body, ends), nil
}

// encodeTuple lays out the members with their alignment; each
// variable-size member but the last gets a framing offset, stored at the
// end, the first member's last. A tuple of fixed size is padded to its
// alignment.
func (t *typ) encodeTuple(b []byte, v any) ([]byte, error) {
	fields, ok := v.([]any)
	if !ok || len(fields) != len(t.fields) {
		return nil, errValue(t, v)
	}
	if len(fields) == 0 {
		return append(b, 0), nil // the unit tuple is one byte
	}
	var body []byte
	var ends []int
	for i, f := range t.fields {
		body = pad(body, f.align)
		var err error
		if body, err = f.encode(body, fields[i]); err != nil {
			return nil, err
		}
		if f.fixed == 0 && i < len(t.fields)-1 {
			ends = append(ends, len(body))
		}
	}
	if t.fixed > 0 {
		return append(b, pad(body, t.align)...), nil
	}
	for i, j := 0, len(ends)-1; i < j; i, j = i+1, j-1 {
		ends[i], ends[j] = ends[j], ends[i]
	}
	return appendFramed(b, body, ends), nil
}

func pad(b []byte, align int) []byte {
	for len(b)%align != 0 {
		b = append(b, 0)
	}
	return b
}

// appendFramed appends body and its framing offsets, each as wide as the
// whole container's size needs (as GLib chooses it).
func appendFramed(b, body []byte, offsets []int) []byte {
	n := len(offsets)
	osz := 8
	for _, w := range []int{1, 2, 4} {
		if offsetSize(len(body)+w*n) == w {
			osz = w
			break
		}
	}
	b = append(b, body...)
	for _, o := range offsets {
		switch osz {
		case 1:
			b = append(b, byte(o))
		case 2:
			b = binary.LittleEndian.AppendUint16(b, uint16(o))
		case 4:
			b = binary.LittleEndian.AppendUint32(b, uint32(o))
		default:
			b = binary.LittleEndian.AppendUint64(b, uint64(o))
		}
	}
	return b
}
