package bytesize_test

import (
	"testing"

	"github.com/projectatomic/atomic-site/internal/bytesize"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"1048576", 1 << 20, false},
		{"1MiB", 1 << 20, false},
		{"1 MiB", 1 << 20, false},
		{"512KiB", 512 << 10, false},
		{"2M", 2 << 20, false},
		{"3GB", 3 << 30, false},
		{"100B", 100, false},
		{"", 0, true},
		{"-1", 0, true},
		{"one", 0, true},
		{"1.5MiB", 0, true},
		{"99999999999T", 0, true},
	} {
		got, err := bytesize.Parse(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
