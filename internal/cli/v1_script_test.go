package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/go-glance/glance/internal/testenv"
)

// TestV1Scripts runs the built glance binary with --os-image-api-version 1
// against glanced's Image API v1 (a glanced started for the test, or the
// endpoint GLANCE_V1_URL names; the peer's Glance 25.1 has no v1), one
// script per file in testdata/script-v1.
func TestV1Scripts(t *testing.T) {
	e := testenv.V1(t)
	bin := testenv.BuildBinary(t, "./cmd/glance")
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script-v1",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("HOME", env.WorkDir)
			for _, kv := range e.Environ() {
				k, v, _ := strings.Cut(kv, "=")
				env.Setenv(k, v)
			}
			env.Setenv("RUN", runID())
			env.Setenv("OTHER_PROJECT", e.OtherProject)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":   exitsCmd,
			"capture": captureCmd,
		},
	})
}
