package main

import (
	"flag"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"mirror": func() { os.Exit(Main()) },
	})
}

var update = flag.Bool("update", false, "rewrite the expected output in testdata/script")

// TestScripts runs the command end to end against local directories:
// testdata/script/*.txtar. -update rewrites their expected output.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script", UpdateScripts: *update})
}
