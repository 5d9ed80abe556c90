package manifest

import (
	"bytes"
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
	// A level is an object or array being read. Paths, for errors only,
	// are made from the stack when one is needed: every manifest goes
	// through here, and making one per value cost more than the rest.
	type level struct {
		object    bool
		expectKey bool
		keys      [][]byte        // read so far (unescaped), for duplicates
		keySet    map[string]bool // the same, once there are many
		count     int
		key       []byte // the current key
		// where the level sits in its parent: a key or an index
		inKey   []byte
		inIndex int
	}
	var stack []*level
	var scalar level // where a scalar sits: not kept
	path := func(depth int) string {
		var b strings.Builder
		for _, l := range stack[1:depth] {
			if l.inKey != nil {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.Write(l.inKey)
			} else {
				b.WriteString("[" + strconv.Itoa(l.inIndex) + "]")
			}
		}
		return b.String()
	}
	// value notes that a value (of any kind) was read in the current
	// container; where is the level a container value would be.
	value := func(where *level) error {
		if len(stack) == 0 {
			return nil
		}
		top := stack[len(stack)-1]
		if top.object {
			top.expectKey = true
			where.inKey = top.key
			return nil
		}
		top.count++
		if top.count > maxElements {
			return invalid(name, path(len(stack)), "more than %d elements", maxElements)
		}
		where.inIndex = top.count - 1
		return nil
	}
	for i := 0; i < len(data); {
		switch c := data[i]; c {
		case ' ', '\t', '\n', '\r', ',', ':':
			i++
		case '{', '[':
			l := &level{object: c == '{', expectKey: c == '{'}
			if err := value(l); err != nil {
				return err
			}
			if len(stack) == maxDepth {
				stack = append(stack, l)
				return invalid(name, path(len(stack)), "nested more than %d levels deep", maxDepth)
			}
			stack = append(stack, l)
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
				k := data[i+1 : j]
				if escaped { // "a" and "\u0061" are the same key
					var u string
					if json.Unmarshal(data[i:j+1], &u) != nil {
						return nil
					}
					k = []byte(u)
				}
				dup := top.keySet[string(k)]
				for _, seen := range top.keys {
					dup = dup || bytes.Equal(seen, k)
				}
				if dup {
					return invalid(name, joinPath(path(len(stack)), string(k)), "appears twice in one object: signed JSON must mean one thing")
				}
				if top.keys = append(top.keys, k); len(top.keys) > 32 {
					// Past a few keys, a set: a scan would be quadratic.
					if top.keySet == nil {
						top.keySet = map[string]bool{}
					}
					for _, k := range top.keys {
						top.keySet[string(k)] = true
					}
					top.keys = top.keys[:0]
				}
				if top.count++; top.count > maxElements {
					return invalid(name, path(len(stack)), "more than %d keys", maxElements)
				}
				top.key, top.expectKey = k, false
			} else if err := value(&scalar); err != nil {
				return err
			}
			i = j + 1
		default: // a number, true, false or null
			j := i
			for j < len(data) && !strings.ContainsRune(" \t\n\r,:}]", rune(data[j])) {
				j++
			}
			if err := value(&scalar); err != nil {
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
