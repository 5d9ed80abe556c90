package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bounds of a manifest's shape. A real one nests 8 levels deep and has no
// array longer than a handful of items; these leave room and stop abuse.
const (
	maxDepth    = 24
	maxElements = 10000 // per array or object
)

// checkShape refuses, before any decoding, what different JSON parsers
// read differently or what only an attacker writes: invalid UTF-8 (where
// parsers substitute or reject), duplicate object keys (where some keep
// the first copy and some the last, so signed JSON would mean two
// things), absurd nesting and absurd sizes.
func checkShape(name string, data []byte) error {
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, size := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			off += size
		}
		return invalid(name, "", "invalid UTF-8 at byte %d", off)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type level struct {
		object bool
		keys   map[string]bool
		count  int
		path   string
		key    string // the key whose value comes next (objects)
	}
	var stack []*level
	path := func() string {
		if len(stack) == 0 {
			return ""
		}
		return stack[len(stack)-1].path
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // malformed JSON: the decoder says it better
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		// In an object, a string in key position is a key.
		if top != nil && top.object && top.key == "" {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k, _ := tok.(string)
			if top.keys[k] {
				return invalid(name, joinPath(top.path, k), "appears twice in one object: signed JSON must mean one thing")
			}
			top.keys[k] = true
			if top.count++; top.count > maxElements {
				return invalid(name, top.path, "more than %d keys", maxElements)
			}
			top.key = k
			continue
		}
		childPath := path()
		if top != nil {
			if top.object {
				childPath = joinPath(top.path, top.key)
				top.key = ""
			} else {
				if d, ok := tok.(json.Delim); ok && d == ']' {
					stack = stack[:len(stack)-1]
					continue
				}
				childPath = top.path + "[" + strconv.Itoa(top.count) + "]"
				if top.count++; top.count > maxElements {
					return invalid(name, top.path, "more than %d elements", maxElements)
				}
			}
		}
		if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
			if len(stack) == maxDepth {
				return invalid(name, childPath, "nested more than %d levels deep", maxDepth)
			}
			stack = append(stack, &level{object: d == '{', keys: map[string]bool{}, path: strings.TrimPrefix(childPath, ".")})
		}
	}
}

// DefaultMaxSize is the default cap on a manifest file's size: real ones
// are a few tens of KiB.
const DefaultMaxSize = 1 << 20

// ErrTooLarge is wrapped by the error for a file over the size cap.
var ErrTooLarge = errors.New("too large")

// CheckSize refuses a file larger than max bytes, before it is read whole.
func CheckSize(name string, size, max int64) error {
	if max > 0 && size > max {
		return fmt.Errorf("%s: %w: %d bytes or more, over the %d-byte cap (--max-manifest-size)", name, ErrTooLarge, size, max)
	}
	return nil
}
