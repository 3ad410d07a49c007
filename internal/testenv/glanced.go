package testenv

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Glanced is a glanced process a test started.
type Glanced struct {
	URL  string // http://127.0.0.1:PORT, no path
	Auth string // noauth or keystone
}

// servingLine is glanced's log line once it listens.
var servingLine = regexp.MustCompile(`msg="glanced serving" addr=(\S+)`)

// StartGlanced builds and starts glanced on a random loopback port with a
// data directory of the test's own, and stops it when the test ends. With a
// peer it validates tokens against the peer's Keystone (keystone mode, the
// peer's glance service user); without one it runs in noauth mode. args
// are more flags, such as --enable-v1=true.
func StartGlanced(t testing.TB, args ...string) *Glanced {
	t.Helper()
	bin := BuildBinary(t, "./cmd/glanced")
	g := &Glanced{Auth: "noauth"}
	// The developer's own GLANCED_* settings stay out: the test's glanced
	// is the same everywhere (and logs the text line watched for below).
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GLANCED_") {
			env = append(env, kv)
		}
	}
	env = append(env, "GLANCED_LISTEN=127.0.0.1:0", "GLANCED_DATA_DIR="+t.TempDir(), "GLANCED_LOG_FORMAT=text")
	peerOnce.Do(func() { peerCloud, peerErr = findPeer() })
	if peerErr == nil {
		u := peerCloud.Glance
		g.Auth = "keystone"
		env = append(env, "GLANCED_AUTH=keystone", "GLANCED_KEYSTONE_AUTH_URL="+peerCloud.KeystoneURL,
			"GLANCED_KEYSTONE_USERNAME="+u.Name, "GLANCED_KEYSTONE_PASSWORD="+u.Password,
			"GLANCED_KEYSTONE_PROJECT_NAME="+u.Project, "GLANCED_KEYSTONE_USER_DOMAIN_NAME="+u.Domain,
			"GLANCED_KEYSTONE_PROJECT_DOMAIN_NAME="+u.Domain)
	} else {
		env = append(env, "GLANCED_AUTH=noauth")
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting glanced: %v", err)
	}
	var mu sync.Mutex
	var logs bytes.Buffer
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			logs.WriteString(line + "\n")
			mu.Unlock()
			if m := servingLine.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { stopGlanced(t, cmd, done) })
	select {
	case a := <-addr:
		g.URL = "http://" + a
	case err := <-done:
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("glanced exited before serving: %v\n%s", err, logs.String())
	case <-time.After(60 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("glanced did not start within 60s:\n%s", logs.String())
	}
	return g
}

// stopGlanced ends glanced as an operator would (SIGTERM), and kills it if
// it does not stop in time.
func stopGlanced(t testing.TB, cmd *exec.Cmd, done chan error) {
	cmd.Process.Signal(os.Interrupt)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	select {
	case err := <-done:
		if err != nil && !strings.Contains(err.Error(), "signal") {
			t.Logf("glanced exited: %v", err)
		}
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		t.Errorf("glanced did not stop within 20s of SIGTERM")
	}
}
