package atomicsite_test

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the import table in docs/architecture.md")

const module = "github.com/projectatomic/atomic-site/"

// packages lists the module's packages (tests aside) with their direct
// imports and their whole dependency set, as go list gives them.
func packages(t *testing.T) map[string]pkgInfo {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports " "}}|{{join .Deps " "}}`, "./...")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkgInfo{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		if len(parts) != 3 {
			t.Fatalf("go list: unexpected line %q", line)
		}
		pkgs[parts[0]] = pkgInfo{imports: strings.Fields(parts[1]), deps: strings.Fields(parts[2])}
	}
	return pkgs
}

type pkgInfo struct{ imports, deps []string }

// The seams hold: Hugo and minio-go are each imported by one package, the
// stores never reach the engine they serve, and sitegen links neither the
// mirror engine nor the ostree code.
func TestSeams(t *testing.T) {
	pkgs := packages(t)
	only := map[string][]string{ // an outside module → the packages that may import it
		"github.com/gohugoio/hugo/":    {"internal/render"},
		"github.com/minio/minio-go/v7": {"internal/store/s3", "internal/store/s3/s3test"},
	}
	for name, p := range pkgs {
		for _, imp := range p.imports {
			for prefix, owners := range only {
				if strings.HasPrefix(imp, prefix) && !slices.Contains(owners, strings.TrimPrefix(name, module)) {
					t.Errorf("%s imports %s: only %s may", name, imp, strings.Join(owners, " and "))
				}
			}
		}
	}
	never := []struct {
		pkg       string   // a package, or a prefix ending in /
		forbidden []string // packages it must not depend on, directly or not
	}{
		{"cmd/sitegen", []string{"internal/mirror", "internal/ostree", "internal/gvariant", "internal/store/local"}},
		{"internal/store/", []string{"internal/mirror", "internal/ostree"}},
		{"internal/store", []string{"internal/"}},
	}
	for _, n := range never {
		matched := false
		for name, p := range pkgs {
			rel := strings.TrimPrefix(name, module)
			if rel != n.pkg && !(strings.HasSuffix(n.pkg, "/") && strings.HasPrefix(rel, n.pkg) && !strings.Contains(rel, "storetest")) {
				continue
			}
			matched = true
			for _, d := range p.deps {
				for _, f := range n.forbidden {
					full := f
					if strings.HasPrefix(f, "internal/") {
						full = module + f
					}
					if d == full || strings.HasSuffix(f, "/") && strings.HasPrefix(d, full) {
						t.Errorf("%s depends on %s", rel, strings.TrimPrefix(d, module))
					}
				}
			}
		}
		if !matched {
			t.Errorf("no package %s: the rule is stale", n.pkg)
		}
	}
}

// importTable is the module's own import graph, one line per package: the
// table docs/architecture.md shows.
func importTable(pkgs map[string]pkgInfo) string {
	var b strings.Builder
	names := make([]string, 0, len(pkgs))
	for name := range pkgs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		rel := strings.TrimPrefix(name, module)
		if name+"/" == module {
			rel = "(root)"
		}
		if strings.HasPrefix(rel, "bench/") || strings.HasPrefix(rel, "internal/testkit/") {
			continue
		}
		var own []string
		for _, imp := range pkgs[name].imports {
			if r, ok := strings.CutPrefix(imp, module); ok {
				own = append(own, strings.TrimPrefix(r, "internal/"))
			} else if imp+"/" == module {
				own = append(own, "(root)")
			}
		}
		if len(own) == 0 {
			own = []string{"-"}
		}
		fmt.Fprintf(&b, "%-28s %s\n", strings.TrimPrefix(rel, "internal/"), strings.Join(own, " "))
	}
	return b.String()
}

var tableRE = regexp.MustCompile("(?s)(<!-- imports: go test -run TestArchitectureDoc -update -->\n```\n)(.*?)(```\n)")

// docs/architecture.md shows who imports whom as go list says; -update
// rewrites the table.
func TestArchitectureDoc(t *testing.T) {
	p := filepath.Join("docs", "architecture.md")
	doc, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	m := tableRE.FindSubmatchIndex(doc)
	if m == nil {
		t.Fatalf("%s: no import table (a fenced block after the imports comment)", p)
	}
	want := importTable(packages(t))
	got := string(doc[m[4]:m[5]])
	if got == want {
		return
	}
	if *update {
		var b bytes.Buffer
		b.Write(doc[:m[4]])
		b.WriteString(want)
		b.Write(doc[m[5]:])
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: the import table does not match go list; run go test -run TestArchitectureDoc -update and describe the change\n--- doc\n%s--- go list\n%s", p, got, want)
}

// binaryKind says what executable format data begins with, or "".
func binaryKind(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return "ELF executable"
	case bytes.HasPrefix(head, []byte{0xcf, 0xfa, 0xed, 0xfe}), bytes.HasPrefix(head, []byte{0xce, 0xfa, 0xed, 0xfe}),
		bytes.HasPrefix(head, []byte{0xfe, 0xed, 0xfa, 0xcf}), bytes.HasPrefix(head, []byte{0xca, 0xfe, 0xba, 0xbe}):
		return "Mach-O executable"
	case bytes.HasPrefix(head, []byte("MZ")) && len(head) >= 0x40:
		off := int(head[0x3c]) | int(head[0x3d])<<8 | int(head[0x3e])<<16 | int(head[0x3f])<<24
		if off >= 0 && off+4 <= len(head) && string(head[off:off+4]) == "PE\x00\x00" {
			return "Windows executable"
		}
	}
	return ""
}

func TestBinaryKind(t *testing.T) {
	pe := make([]byte, 0x90)
	copy(pe, "MZ")
	pe[0x3c] = 0x80
	copy(pe[0x80:], "PE\x00\x00")
	for _, tc := range []struct {
		head []byte
		want string
	}{
		{[]byte("\x7fELF\x02\x01\x01"), "ELF executable"},
		{[]byte{0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1}, "Mach-O executable"},
		{[]byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2}, "Mach-O executable"},
		{pe, "Windows executable"},
		{[]byte("MZ is a text file that starts like a DOS header, and is long enough to look at its PE offset"), ""},
		{[]byte("#!/usr/bin/env bash\n"), ""},
		{[]byte("package main\n"), ""},
		{nil, ""},
	} {
		if got := binaryKind(tc.head); got != tc.want {
			t.Errorf("binaryKind(%q) = %q, want %q", tc.head, got, tc.want)
		}
	}
}

// maxTracked is the largest file the repository may hold.
const maxTracked = 5 << 20

// No tracked file is a compiled binary or larger than maxTracked: every
// clone downloads each of them.
func TestNoBinariesTracked(t *testing.T) {
	out, err := exec.Command("git", "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v (this test reads the checkout's index)", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		f, err := os.Open(name)
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			t.Fatal(err)
		}
		head := make([]byte, 4096)
		n, _ := io.ReadFull(f, head)
		f.Close()
		if fi.Size() > maxTracked {
			t.Errorf("%s is tracked and has %d bytes (more than %d): git rm --cached it", name, fi.Size(), maxTracked)
		}
		if kind := binaryKind(head[:n]); kind != "" {
			t.Errorf("%s is tracked and is a compiled binary (%s): git rm --cached it and add it to .gitignore", name, kind)
		}
	}
}
