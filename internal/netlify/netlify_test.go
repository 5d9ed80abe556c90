package netlify_test

import (
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/netlify"
)

func TestNetlifyToml(t *testing.T) {
	c, err := netlify.Load("../../netlify.toml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Build.Command, "go run ./cmd/sitegen build") || !strings.Contains(c.Build.Command, "--out public") || c.Build.Publish != "public" {
		t.Errorf("build = %+v", c.Build)
	}
	one := func(p, header string) string {
		v := c.HeadersFor(p)[header]
		if len(v) != 1 {
			t.Errorf("%s: %s set by %d rules (%q): Netlify would join them", p, header, len(v), v)
			return ""
		}
		return v[0]
	}
	for _, p := range []string{"/", "/streams/stable/", "/streams/stable/28.20180508.0/", "/streams/stable.json", "/releases/stable.json",
		"/updates/stable.json", "/streams/stable/feed.xml", "/verify/", "/css/site.min.0123abcd.css", "/js/copy.min.0123abcd.js", "/latest/stable/x86_64/qcow2"} {
		cc := one(p, "Cache-Control")
		long := strings.HasPrefix(p, "/css/") || strings.HasPrefix(p, "/js/")
		if long != strings.Contains(cc, "max-age=31536000") || (long && !strings.Contains(cc, "immutable")) {
			t.Errorf("%s: Cache-Control %q", p, cc)
		}
		if !long && !strings.Contains(cc, "max-age=300") {
			t.Errorf("%s: Cache-Control %q, want short", p, cc)
		}
		csp := one(p, "Content-Security-Policy")
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if one(p, "X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", p)
		}
		if one(p, "Referrer-Policy") == "" {
			t.Errorf("%s: no Referrer-Policy", p)
		}
		if hsts := one(p, "Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
			t.Errorf("%s: HSTS %q", p, hsts)
		}
	}
}
