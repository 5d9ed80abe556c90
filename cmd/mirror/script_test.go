package main

import (
	"flag"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// asMain, set in a child's environment, makes the test binary run as the
// mirror command: the kill tests need it as a process of its own.
const asMain = "ATOMIC_MIRROR_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		os.Exit(Main())
	}
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
