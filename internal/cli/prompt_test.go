package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-glance/glance/internal/testenv"
)

// Without a password the CLI asks on the terminal, once: the second command
// runs on the cached token and asks nothing.
func TestPasswordPromptOnlyWhenLoggingIn(t *testing.T) {
	peer := testenv.Peer(t)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(t.TempDir(), "cache"))
	env := map[string]string{}
	for _, kv := range peer.OSEnv(peer.AlphaMember) {
		k, v, _ := strings.Cut(kv, "=")
		if k != "OS_PASSWORD" {
			env[k] = v
		}
	}
	asked := 0
	for i := range 2 {
		var out, errb bytes.Buffer
		streams := &IOStreams{In: strings.NewReader(""), Out: &out, Err: &errb, InTTY: true,
			ReadPassword: func(prompt string) (string, error) {
				asked++
				if prompt != "OS Password: " {
					t.Errorf("prompt %q", prompt)
				}
				return peer.AlphaMember.Password, nil
			}}
		if code := Main(context.Background(), []string{"image-list", "--limit", "1"}, streams, func(k string) string { return env[k] }); code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, code, errb.String())
		}
		if !strings.Contains(out.String(), "| ID") {
			t.Fatalf("run %d printed %q", i, out.String())
		}
	}
	if asked != 1 {
		t.Fatalf("asked for the password %d times, want 1 (second run has a cached token)", asked)
	}

	// An empty answer is python-glanceclient's error, exit 1.
	t.Setenv("XDG_CACHE_HOME", filepath.Join(t.TempDir(), "cache2"))
	var errb bytes.Buffer
	streams := &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &errb, InTTY: true,
		ReadPassword: func(string) (string, error) { return "", nil }}
	if code := Main(context.Background(), []string{"image-list"}, streams, func(k string) string { return env[k] }); code != 1 ||
		!strings.Contains(errb.String(), "You must provide a password") {
		t.Fatalf("empty password: exit %d, %q", code, errb.String())
	}
}
