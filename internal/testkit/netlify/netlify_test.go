package netlify_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/testkit/netlify"
)

func TestNetlifyToml(t *testing.T) {
	c, err := netlify.Load("../../../netlify.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Build.Command != "scripts/netlify-build.sh" || c.Build.Publish != "public" {
		t.Errorf("build = %+v, want scripts/netlify-build.sh publishing public", c.Build)
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

// The build script: production is the release bot's, never built here
// (it would have neither the rollback check nor a signed index); deploy
// previews build the example history. A stand-in go records what it was
// asked to build.
func TestNetlifyBuild(t *testing.T) {
	bin := t.TempDir()
	record := filepath.Join(t.TempDir(), "args")
	os.WriteFile(filepath.Join(bin, "go"), []byte("#!/bin/sh\necho \"$@\" > "+record+"\n"), 0o755)
	for _, tc := range []struct {
		name string
		env  []string
		ok   bool
		want string // in the recorded go command, or in stderr
	}{
		{"production", []string{"CONTEXT=production"}, false, "production is built and deployed by the release bot"},
		{"no context", nil, false, "production is built and deployed by the release bot"},
		{"production with manifests", []string{"CONTEXT=production", "MANIFESTS_DIR=/srv/m", "KEYS_DIR=/srv/k"}, false, "netlify deploy --prod --dir"},
		{"deploy preview", []string{"CONTEXT=deploy-preview"}, true, "--manifests testdata/manifests --keys testdata/keys --out public"},
		{"branch deploy", []string{"CONTEXT=branch-deploy"}, true, "--manifests testdata/manifests --keys testdata/keys --out public"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(record)
			cmd := exec.Command("bash", "../../../scripts/netlify-build.sh")
			cmd.Env = append([]string{"PATH=" + bin + ":/usr/bin:/bin"}, tc.env...)
			out, err := cmd.CombinedOutput()
			got, _ := os.ReadFile(record)
			switch {
			case tc.ok && (err != nil || !strings.Contains(string(got), "run ./cmd/sitegen build "+tc.want)):
				t.Errorf("exit %v, go called with %q; want %q\n%s", err, got, tc.want, out)
			case !tc.ok && (err == nil || len(got) > 0 || !strings.Contains(string(out), tc.want)):
				t.Errorf("exit %v, go called with %q, output %q; want a refusal saying %q", err, got, out, tc.want)
			}
		})
	}
}
