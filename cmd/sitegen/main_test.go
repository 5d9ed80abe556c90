package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/script")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sitegen": func() { os.Exit(Main()) },
	})
}

// TestScripts runs the commands end to end: testdata/script/*.txtar. Each
// script starts with the signed example history in $WORK/example, the
// real data fixtures in $REALDATA and the project (site/, templates/,
// content/) in $PROJECT. -update rewrites their expected output.
func TestScripts(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	realdata := filepath.Join(root, "testdata", "realdata")
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("REALDATA", realdata)
			env.Setenv("PROJECT", root)
			return os.CopyFS(filepath.Join(env.WorkDir, "example"), os.DirFS(filepath.Join(root, "testdata")))
		},
	})
}
