package rollback_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/rollback"
)

func day(d int) time.Time { return time.Date(2018, 6, d, 0, 0, 0, 0, time.UTC) }

func stream(releases string, deadends string, modified int, current string) *rollback.Stream {
	s := &rollback.Stream{Releases: strings.Fields(releases), Deadends: map[string]bool{}, LastModified: day(modified), Current: current}
	for _, d := range strings.Fields(deadends) {
		s.Deadends[d] = true
	}
	return s
}

func TestCheck(t *testing.T) {
	prev := rollback.Published{"stable": stream("r1 r2 r3", "r2", 10, "r3")}
	for _, tc := range []struct {
		name string
		next *rollback.Stream
		want []string // each line of the error; none: allowed
	}{
		{"same", stream("r1 r2 r3", "r2", 10, "r3"), nil},
		{"a new build", stream("r1 r2 r3 r4", "r2", 12, "r4"), nil},
		{"the current build revoked: fallback explained", stream("r1 r2 r3", "r2 r3", 12, "r1"), nil},
		{"newest manifest deleted", stream("r1 r2", "r2", 9, "r1"), []string{
			"stream stable: build r3 was published, and its manifest is gone without a revocation",
			"stream stable: last-modified would go back from 2018-06-10T00:00:00Z to 2018-06-09T00:00:00Z",
			"stream stable: the current build would go back from r3 to r1 without a revocation of r3",
		}},
		{"revocation deleted", stream("r1 r2 r3", "", 10, "r3"), []string{
			"stream stable: the revocation of r2 is gone: the withdrawn build would come back",
		}},
		{"everything deleted", nil, []string{
			"build r1 was published", "build r2 was published", "build r3 was published",
			"last-modified would go back", "the current build would go back from r3 to nothing",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := rollback.Published{}
			if tc.next != nil {
				next["stable"] = tc.next
			}
			err := rollback.Check(prev, next)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Check: %v, want no rollback", err)
				}
				return
			}
			if !errors.Is(err, rollback.ErrRollback) {
				t.Fatalf("Check: %v, want a rollback", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("%d lines, want %d:\n%v", len(lines), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// Judged names every file Read reads, and no other: a Builder keeps these
// to judge its next build by.
func TestJudged(t *testing.T) {
	var read []string
	rollback.Read(func(p string) ([]byte, error) {
		read = append(read, p)
		return nil, fs.ErrNotExist
	}, []string{"stable"})
	rollback.Read(func(p string) ([]byte, error) {
		read = append(read, p)
		if strings.HasPrefix(p, "releases/") {
			return []byte(`{"releases": []}`), nil
		}
		return nil, fs.ErrNotExist
	}, []string{"testing"})
	for _, p := range read {
		if !rollback.Judged(p) {
			t.Errorf("Read reads %s, which Judged leaves out", p)
		}
	}
	if len(read) < 4 {
		t.Errorf("Read read only %v", read)
	}
	for _, p := range []string{"streams/stable/feed.xml", "streams/stable/28.1/CHECKSUM", "index.json", "latest/stable/x86_64/qcow2/index.html"} {
		if rollback.Judged(p) {
			t.Errorf("Judged(%s) = true", p)
		}
	}
}
