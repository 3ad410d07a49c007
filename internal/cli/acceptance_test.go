package cli_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/go-glance/glance/internal/testenv"
)

// TestAcceptanceScript runs a shell script written for python-glanceclient
// with our binary, and with python-glanceclient itself when installed to
// show that the script is valid for it.
func TestAcceptanceScript(t *testing.T) {
	peer := testenv.Peer(t)
	ours := testenv.BuildBinary(t, "./cmd/glance")
	beta := peer.Auth(t, peer.BetaMember)
	clients := map[string]string{"go-glance": ours}
	if _, err := os.Stat("/usr/bin/glance"); err == nil {
		clients["python-glanceclient"] = "/usr/bin/glance"
	} else {
		t.Log("python-glanceclient not installed: running the script with our binary only")
	}
	for name, bin := range clients {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			cmd := exec.Command("sh", "testdata/acceptance.sh")
			// HOME in a fresh folder: python-glanceclient's schema cache
			// breaks it against Glance 25.
			cmd.Env = append(peer.OSEnv(peer.Admin),
				"PATH="+os.Getenv("PATH"), "HOME="+work, "GLANCE="+bin, "WORK="+work,
				"RUN="+name+"-"+strings.ReplaceAll(t.Name(), "/", "-"), "BETA_PROJECT="+beta.ProjectID,
				"OS_IMAGE_API_VERSION=2")
			if name == "python-glanceclient" {
				cmd.Env = append(cmd.Env, "RETRY_RESETS=1")
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("acceptance script with %s failed: %v\n%s", bin, err, out)
			}
			if !strings.Contains(string(out), "acceptance script passed") {
				t.Fatalf("acceptance script did not finish:\n%s", out)
			}
		})
	}
}
