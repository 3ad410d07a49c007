package cli_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/go-glance/glance/internal/testenv"
)

// TestScripts runs the built glance binary against the real Keystone and
// Glance peer, one script per file in testdata/script.
func TestScripts(t *testing.T) {
	peer := testenv.Peer(t)
	bin := testenv.BuildBinary(t, "./cmd/glance")
	users := map[string]testenv.User{
		"admin": peer.Admin, "alpha": peer.AlphaMember, "alpha-reader": peer.AlphaReader,
		"beta": peer.BetaMember, "beta-reader": peer.BetaReader,
	}
	alpha := peer.Auth(t, peer.AlphaMember)
	beta := peer.Auth(t, peer.BetaMember)
	admin := peer.Auth(t, peer.Admin)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
			for _, kv := range peer.OSEnv(peer.Admin) {
				k, v, _ := strings.Cut(kv, "=")
				env.Setenv(k, v)
			}
			env.Setenv("OS_IMAGE_API_VERSION", "2")
			env.Setenv("RUN", runID())
			env.Setenv("ALPHA_PROJECT", alpha.ProjectID)
			env.Setenv("BETA_PROJECT", beta.ProjectID)
			env.Setenv("GLANCE_URL", peer.GlanceURL)
			env.Setenv("KEYSTONE_URL", peer.KeystoneURL)
			env.Setenv("ADMIN_TOKEN", admin.Token)
			env.Setenv("PREFIX_URL", peer.PrefixURL)
			env.Setenv("DEAD_REGION", peer.DeadRegion)
			env.Setenv("PREFIX_REGION", peer.PrefixRegion)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// exits N cmd args...: run cmd and require exit status N.
			"exits": exitsCmd,
			// as USER: run the next commands as one of the peer's users.
			"as": func(ts *testscript.TestScript, neg bool, args []string) {
				u, ok := users[args[0]]
				if len(args) != 1 || !ok {
					ts.Fatalf("usage: as admin|alpha|alpha-reader|beta|beta-reader")
				}
				ts.Setenv("OS_USERNAME", u.Name)
				ts.Setenv("OS_PASSWORD", u.Password)
				ts.Setenv("OS_PROJECT_NAME", u.Project)
			},
			// capture VAR FIELD: set VAR to the Value of FIELD in the last
			// Property/Value table on stdout.
			"capture": captureCmd,
		},
	})
}

// runID names this run's images, so that runs sharing the peer do not meet.
func runID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// exitsCmd is "exits N cmd args...": run cmd and require exit status N.
func exitsCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: exits N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad status %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// captureCmd is "capture VAR FIELD": set VAR to the Value of FIELD in the
// last Property/Value table on stdout.
func captureCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: capture VAR FIELD")
	}
	for _, line := range strings.Split(ts.ReadFile("stdout"), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) >= 3 && strings.TrimSpace(cells[1]) == args[1] {
			ts.Setenv(args[0], strings.TrimSpace(cells[2]))
			return
		}
	}
	ts.Fatalf("capture: no %q row in stdout", args[1])
}
