package s3

import "testing"

// The ranges after a first page cover every key after it, once each, in
// about as many pages as the first page's reach suggests.
func TestObjectRanges(t *testing.T) {
	s := &Store{prefix: "repo/"}
	for _, tt := range []struct {
		last      string
		wantParts int // 0: not an object key, no ranges
	}{
		{"repo/objects/0c/abc.filez", 20},
		{"repo/objects/4a/abc.filez", 3},
		{"repo/objects/fe/abc.filez", 1},
		{"repo/objects/ff/abc.filez", 1},
		{"repo/objects/00/abc.filez", 256},
		{"repo/config", 0},
		{"repo/stable/28.json", 0},
		{"repo/objects/zz/abc.filez", 0},
	} {
		parts := s.objectRanges(tt.last)
		if tt.wantParts == 0 {
			if parts != nil {
				t.Errorf("%s: %d ranges, want none", tt.last, len(parts))
			}
			continue
		}
		if len(parts) < tt.wantParts-1 || len(parts) > tt.wantParts+1 {
			t.Errorf("%s: %d ranges, want about %d", tt.last, len(parts), tt.wantParts)
		}
		from := tt.last
		for i, p := range parts {
			if p.after != from || p.name != "repo/" || (p.upTo <= p.after && p.upTo != "\xff") {
				t.Fatalf("%s: range %d = %+v, want one from %q", tt.last, i, p, from)
			}
			from = p.upTo
		}
		if from != "\xff" {
			t.Errorf("%s: the last range ends at %q, not at the end", tt.last, from)
		}
	}
}
