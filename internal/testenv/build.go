package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

type build struct {
	once sync.Once
	path string
	err  error
}

var builds struct {
	sync.Mutex
	m map[string]*build
}

// BuildBinary builds the main package pkg, such as "./cmd/glance" (relative to
// the module's root) or a full import path, and returns the path of the binary.
// It builds each package once per test process; a failed build fails every
// test that asks for it.
//
// Binaries go to a folder in os.TempDir named after the module's root, and are
// replaced by renaming, so that test processes running at once share it safely.
func BuildBinary(t testing.TB, pkg string) string {
	t.Helper()
	builds.Lock()
	b := builds.m[pkg]
	if b == nil {
		b = &build{}
		if builds.m == nil {
			builds.m = map[string]*build{}
		}
		builds.m[pkg] = b
	}
	builds.Unlock()
	b.once.Do(func() { b.path, b.err = goBuild(pkg) })
	if b.err != nil {
		t.Fatalf("building %s: %v", pkg, b.err)
	}
	return b.path
}

func goBuild(pkg string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(root + "\x00" + os.Getenv("GOFLAGS")))
	dir := filepath.Join(os.TempDir(), "glance-testbin-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := path.Base(pkg)
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	f, err := os.CreateTemp(dir, name+".tmp*")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp) // after a failure; a no-op after the rename

	cmd := exec.Command("go", "build", "-o", tmp, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	bin := filepath.Join(dir, name)
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// moduleRoot returns the folder of the go.mod above the working directory,
// which go test sets to the folder of the package under test.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
