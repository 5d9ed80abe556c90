package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/projectatomic/atomic-site/internal/trust"
)

// The hostile-input corpus (testdata/hostile, expected.tsv says where each
// case goes and what error it must give): each signed case is refused by
// verify and by build in one line naming the file and the field, and the
// site built before is left exactly as it was.
func TestHostileInputRefused(t *testing.T) {
	corpus := "../../testdata/hostile"
	f, err := os.Open(filepath.Join(corpus, "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	signer, err := trust.LoadSigner(testKey)
	if err != nil {
		t.Fatal(err)
	}
	cases := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		name, target, want := split3(sc.Text())
		cases++
		t.Run(name, func(t *testing.T) {
			var data []byte
			if strings.HasPrefix(name, "too-large") {
				good, err := os.ReadFile(filepath.Join(corpus, "url-without-host.json"))
				if err != nil {
					t.Fatal(err)
				}
				data = append(bytes.Replace(good, []byte("https:/no-host"), []byte("https://ci.example.org/1"), 1), bytes.Repeat([]byte(" "), 2<<20)...)
				data = data[:2<<20]
			} else if data, err = os.ReadFile(filepath.Join(corpus, name)); err != nil {
				t.Fatal(err)
			}
			work := t.TempDir()
			manifests := filepath.Join(work, "manifests")
			if err := os.CopyFS(manifests, os.DirFS("../../testdata/manifests")); err != nil {
				t.Fatal(err)
			}
			common := []string{"--manifests", manifests, "--keys", testKeys, "--project", "../..", "--now", "2018-06-10T00:00:00Z"}
			pub := filepath.Join(work, "public")
			if _, errs, code := sitegen(append([]string{"build", "--out", pub}, common...)...); code != 0 {
				t.Fatalf("build before: %s", errs)
			}
			before := snapshot(t, pub)

			p := filepath.Join(manifests, filepath.FromSlash(target))
			sig, err := signer.Sign(data)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(p, data, 0o644)
			os.WriteFile(p+trust.SigSuffix, sig, 0o644)
			for _, cmd := range []string{"verify", "build"} {
				args := append([]string{cmd}, common...)
				if cmd == "build" {
					args = append(args, "--out", pub)
				}
				out, errs, code := sitegen(args...)
				lines := strings.Split(strings.TrimSpace(errs), "\n")
				if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], want) || out != "" {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 and one line containing %q", cmd, code, out, errs, want)
				}
			}
			if after := snapshot(t, pub); after != before {
				t.Error("the published site changed")
			}
		})
	}
	if cases < 12 {
		t.Errorf("%d cases in the corpus, want at least 12", cases)
	}
	t.Logf("figure: hostile inputs: %d cases, each refused by verify and build with one line naming the file and field; the previous site untouched", cases)
}

func split3(line string) (a, b, c string) {
	f := strings.SplitN(line, "\t", 3)
	for len(f) < 3 {
		f = append(f, "")
	}
	return f[0], f[1], f[2]
}

// snapshot is every file of a site with its bytes' length and a sample,
// enough to see any change.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			b.WriteString(rel + " " + string(data) + "\n")
		}
		return err
	})
	return b.String()
}
