// Package scripts holds the tests of the project's shell scripts: try.sh,
// the README's first command, and release.sh.
package scripts

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// need skips, loudly, when a tool the script needs is missing.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIPPED: %s is not installed, so the script cannot run", tool)
		}
	}
}

func runScript(t *testing.T, timeout time.Duration, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "./"+name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return string(out)
}

// TestTry runs try.sh as the README has a newcomer run it, and checks that
// each step of the walk happened and that it left nothing running.
func TestTry(t *testing.T) {
	need(t, "bash", "go", "cmp")
	tmp := t.TempDir()
	out := runScript(t, 8*time.Minute, []string{"TMPDIR=" + tmp, "OS_CLOUD=nonexistent", "OS_AUTH_URL=http://127.0.0.1:1/v3"}, "try.sh")
	for _, want := range []string{
		"\n$ glance image-create --name try-image",
		"| status           | active",
		"\n$ glance image-tag-update try-image-2 demo",
		"| tags             | [\"demo\"]",
		"beta accepted\n",
		"| beta      | accepted |",
		"# the downloaded copy is identical",
		"\n$ glance image-delete try-image-2",
		"# glanced stopped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("try.sh's output lacks %q:\n%s", want, out)
		}
	}
	// beta's list, after accepting, shows the shared image.
	if !regexp.MustCompile(`noauth:beta glance image-list\n(.*\n){3}\| [0-9a-f-]{36} \| try-image-2 \|`).MatchString(out) {
		t.Errorf("project beta does not list the shared image:\n%s", out)
	}
	// The last list is empty: the image is gone.
	if !strings.HasSuffix(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(out), "# glanced stopped")), "+----+------+\n| ID | Name |\n+----+------+\n+----+------+") {
		t.Errorf("the last image-list is not empty:\n%s", out)
	}
	left, _ := os.ReadDir(tmp)
	for _, e := range left {
		if strings.HasPrefix(e.Name(), "glance-try.") {
			t.Errorf("try.sh left %s behind", e.Name())
		}
	}
}

// TestRelease runs release.sh for linux/amd64 only (the six targets are
// the script's job, not CI's) and checks what it makes: static binaries
// that run and tell their version and commit, checksums that verify, man
// pages and completion scripts.
func TestRelease(t *testing.T) {
	need(t, "bash", "go", "git", "sha256sum")
	if out, err := exec.Command("git", "rev-parse", "HEAD").CombinedOutput(); err != nil {
		t.Skipf("SKIPPED: not a git checkout (%v: %s): release.sh builds the committed HEAD", err, out)
	}
	dir := t.TempDir()
	runScript(t, 10*time.Minute, []string{"RELEASE_TARGETS=linux/amd64", "TMPDIR=" + t.TempDir()}, "release.sh", dir)
	version := regexp.MustCompile(`^\d+\.\d+\.\d+ \(.*commit [0-9a-f]{12}.*\)\n$`)
	for _, bin := range []string{"glance-linux-amd64", "glanced-linux-amd64"} {
		path := filepath.Join(dir, bin)
		out, err := exec.Command(path, "--version").CombinedOutput()
		if err != nil || !version.Match(out) {
			t.Errorf("%s --version: %q, %v; want the version and the commit", bin, out, err)
		}
		info, err := exec.Command("go", "version", "-m", path).CombinedOutput()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"CGO_ENABLED=0", "-trimpath=true", "vcs.revision="} {
			if !strings.Contains(string(info), want) {
				t.Errorf("%s was not built with %s:\n%s", bin, want, info)
			}
		}
	}
	cmd := exec.Command("sha256sum", "--check", "--strict", "SHA256SUMS")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sha256sum --check: %v\n%s", err, out)
	}
	sums, _ := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	for _, f := range []string{"glance-linux-amd64", "glanced-linux-amd64", "man/man1/glance.1", "man/man1/glance-image-create.1",
		"man/man1/glanced.1", "completion/glance.bash", "completion/_glance", "completion/glance.fish",
		"completion/glanced.bash", "completion/_glanced", "completion/glanced.fish", "glanced.service"} {
		if !strings.Contains(string(sums), "  "+f+"\n") {
			t.Errorf("SHA256SUMS does not list %s", f)
		}
	}
	page, _ := os.ReadFile(filepath.Join(dir, "man/man1/glanced.1"))
	if !strings.Contains(string(page), "metrics-listen") {
		t.Errorf("glanced.1 does not document --metrics-listen:\n%.600s", page)
	}
	if out, err := exec.Command("bash", "-n", filepath.Join(dir, "completion/glance.bash")).CombinedOutput(); err != nil {
		t.Errorf("glance.bash does not parse: %v\n%s", err, out)
	}
}
