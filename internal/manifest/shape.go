package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
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
// things), absurd nesting and absurd sizes. It scans the bytes once,
// without building tokens: every manifest goes through it. Malformed JSON
// is left to the decoder, which says what is wrong better.
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
	type level struct {
		object    bool
		expectKey bool
		keys      map[string]bool
		count     int
		path, key string
	}
	var stack []*level
	// value notes that a value (of any kind) was read in the current
	// container, and returns the path a container value would have.
	value := func() (string, error) {
		if len(stack) == 0 {
			return "", nil
		}
		top := stack[len(stack)-1]
		if top.object {
			top.expectKey = true
			return joinPath(top.path, top.key), nil
		}
		top.count++
		if top.count > maxElements {
			return "", invalid(name, top.path, "more than %d elements", maxElements)
		}
		return top.path + "[" + strconv.Itoa(top.count-1) + "]", nil
	}
	for i := 0; i < len(data); {
		switch c := data[i]; c {
		case ' ', '\t', '\n', '\r', ',', ':':
			i++
		case '{', '[':
			p, err := value()
			if err != nil {
				return err
			}
			if len(stack) == maxDepth {
				return invalid(name, p, "nested more than %d levels deep", maxDepth)
			}
			stack = append(stack, &level{object: c == '{', expectKey: c == '{', path: p})
			i++
		case '}', ']':
			if len(stack) == 0 {
				return nil // malformed: the decoder reports it
			}
			stack = stack[:len(stack)-1]
			i++
		case '"':
			j := i + 1
			escaped := false
			for j < len(data) && data[j] != '"' {
				if data[j] == '\\' {
					escaped = true
					j++
				}
				j++
			}
			if j >= len(data) {
				return nil // unterminated: the decoder reports it
			}
			if top := last(stack); top != nil && top.object && top.expectKey {
				k := string(data[i+1 : j])
				if escaped { // "a" and "\u0061" are the same key
					if json.Unmarshal(data[i:j+1], &k) != nil {
						return nil
					}
				}
				if top.keys == nil {
					top.keys = map[string]bool{}
				}
				if top.keys[k] {
					return invalid(name, joinPath(top.path, k), "appears twice in one object: signed JSON must mean one thing")
				}
				top.keys[k] = true
				if top.count++; top.count > maxElements {
					return invalid(name, top.path, "more than %d keys", maxElements)
				}
				top.key, top.expectKey = k, false
			} else if _, err := value(); err != nil {
				return err
			}
			i = j + 1
		default: // a number, true, false or null
			j := i
			for j < len(data) && !strings.ContainsRune(" \t\n\r,:}]", rune(data[j])) {
				j++
			}
			if _, err := value(); err != nil {
				return err
			}
			i = max(j, i+1)
		}
	}
	return nil
}

func last[T any](s []*T) *T {
	if len(s) == 0 {
		return nil
	}
	return s[len(s)-1]
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
