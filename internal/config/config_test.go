package config_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/projectatomic/atomic-site/internal/config"
)

func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"14d", 14 * 24 * time.Hour, false},
		{"36h", 36 * time.Hour, false},
		{"1d12h", 0, true},
		{"0d", 0, true},
		{"-3h", 0, true},
		{"fortnight", 0, true},
	} {
		got, err := config.ParseDuration(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParse(t *testing.T) {
	c, err := config.Parse("s.toml", []byte(`
default-cadence = "7d"
[[streams]]
name = "stable"
title = "Fedora Atomic Host 28"
cadence = "14d"
[[streams]]
name = "testing"
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Cadence("stable"); got != 14*24*time.Hour {
		t.Errorf("stable cadence = %v", got)
	}
	if got := c.Cadence("testing"); got != 7*24*time.Hour {
		t.Errorf("testing cadence = %v, want the default", got)
	}
	if got := c.Cadence("unlisted"); got != 7*24*time.Hour {
		t.Errorf("unlisted cadence = %v, want the default", got)
	}
	if got := strings.Join(c.StreamNames(), " "); got != "stable testing" {
		t.Errorf("streams = %q", got)
	}
	if c.Promote.StalePolicy != config.NextGood || c.Promote.Epoch != nil {
		t.Errorf("promote = %+v, want next-good and no epoch by default", c.Promote)
	}
	c, err = config.Parse("s.toml", []byte("[promote]\nepoch = 2018-05-08T00:00:00Z\nstale-policy = \"skip\"\n"))
	if err != nil || c.Promote.StalePolicy != config.Skip || !c.Promote.Epoch.Equal(time.Date(2018, 5, 8, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("promote = %+v, %v; want skip from 2018-05-08", c.Promote, err)
	}
}

func TestParseRejects(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"[[streams]]\ntitle = \"x\"\n", "s.toml: streams[0]: name is required"},
		{"[[streams]]\nname = \"a\"\n[[streams]]\nname = \"a\"\n", `s.toml: stream "a" is listed twice`},
		{"default-cadence = \"soon\"\n", `bad duration "soon"`},
		{"titel = \"x\"\n", `s.toml:1:1: unknown setting "titel"`},
		{"title = \n", "s.toml:1:"},
		{"[promote]\nstale-policy = \"wait\"\n", `s.toml: promote.stale-policy: "wait" is not "next-good" or "skip"`},
		{"[promote]\nepoch = \"someday\"\n", "s.toml:2:"},
	} {
		_, err := config.Parse("s.toml", []byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
}

// Architectures are listed in the config's order, the primary first, and
// the ones it does not name after them by name.
func TestSortArches(t *testing.T) {
	c := config.Default()
	got := []string{"s390x", "aarch64", "riscv64", "x86_64", "armhfp", "ppc64le"}
	c.SortArches(got)
	if want := []string{"x86_64", "aarch64", "ppc64le", "s390x", "armhfp", "riscv64"}; !slices.Equal(got, want) {
		t.Errorf("sorted %q, want %q", got, want)
	}
	c, err := config.Parse("x.toml", []byte(`architectures = ["aarch64"]`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	got = []string{"x86_64", "aarch64"}
	c.SortArches(got)
	if want := []string{"aarch64", "x86_64"}; !slices.Equal(got, want) {
		t.Errorf("with aarch64 first: %q, want %q", got, want)
	}
}
