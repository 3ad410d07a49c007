package auth

import (
	"errors"
	"path/filepath"
	"testing"
)

// A password asked for lazily is asked once, at the login, and not at all
// while a cached token serves.
func TestPeerPasswordFunc(t *testing.T) {
	cache, err := NewTokenCache(filepath.Join(t.TempDir(), "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	o := adminOptions(t)
	password := o.Password
	o.Password = ""
	o.Cache = cache
	asked := 0
	o.PasswordFunc = func() (string, error) { asked++; return password, nil }
	for range 2 {
		s := openT(t, o)
		if getImages(t, s) != 200 {
			t.Fatal("listing images failed")
		}
	}
	if asked != 1 {
		t.Fatalf("password asked %d times for a login and a cached token, want 1", asked)
	}

	// A refusal to answer stops the login with that error.
	o.Cache = nil
	refused := errors.New("no terminal")
	o.PasswordFunc = func() (string, error) { return "", refused }
	if _, err := Open(testCtx(t), o); !errors.Is(err, refused) {
		t.Fatalf("Open with a failing PasswordFunc: %v", err)
	}
	o.PasswordFunc = func() (string, error) { return "", nil }
	if _, err := Open(testCtx(t), o); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("Open with an empty answer: %v", err)
	}
}
