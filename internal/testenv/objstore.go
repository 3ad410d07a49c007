package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// ObjectStore is the Swift all-in-one (with its s3api) that
// scripts/swift-up.sh starts: the settings it writes to DIR/env.
type ObjectStore struct {
	SwiftAuthURL, SwiftUser, SwiftKey    string // tempauth (v1)
	S3Endpoint, S3AccessKey, S3SecretKey string
	// SwiftKeystoneURL is the storage URL of Keystone projects up to their
	// ID (http://.../v1/KEY_), when Swift takes the peer's tokens.
	SwiftKeystoneURL string
}

var (
	objOnce  sync.Once
	objStore *ObjectStore
	objErr   error
)

// Swift returns the running Swift, found through GLANCE_SWIFT_ENV (the folder
// swift-up.sh wrote). Without one the test skips loudly, or fails when
// GLANCE_REQUIRE_SWIFT=1 (as scripts/test.sh sets when it started Swift).
func Swift(t testing.TB) *ObjectStore {
	t.Helper()
	objOnce.Do(func() { objStore, objErr = findSwift() })
	if objErr != nil {
		msg := "INTEGRATION TEST SKIPPED: no Swift; run scripts/test.sh or scripts/swift-up.sh DIR with GLANCE_SWIFT_ENV=DIR (" + objErr.Error() + ")"
		if os.Getenv("GLANCE_REQUIRE_SWIFT") == "1" {
			t.Fatal(strings.Replace(msg, "SKIPPED", "FAILED (GLANCE_REQUIRE_SWIFT=1)", 1))
		}
		t.Skip(msg)
	}
	return objStore
}

func findSwift() (*ObjectStore, error) {
	dir := os.Getenv("GLANCE_SWIFT_ENV")
	switch dir {
	case "", "none":
		return nil, fmt.Errorf("GLANCE_SWIFT_ENV=%q", dir)
	}
	return loadSwift(dir)
}

// loadSwift reads the env file swift-up.sh wrote in dir, and checks that
// Swift answers.
func loadSwift(dir string) (*ObjectStore, error) {
	m, err := readEnvFile(filepath.Join(dir, "env"))
	if err != nil {
		return nil, err
	}
	o := &ObjectStore{
		SwiftAuthURL: m["SWIFT_AUTH_URL"], SwiftUser: m["SWIFT_USER"], SwiftKey: m["SWIFT_KEY"], SwiftKeystoneURL: m["SWIFT_KEYSTONE_URL"],
		S3Endpoint: m["S3_ENDPOINT"], S3AccessKey: m["S3_ACCESS_KEY"], S3SecretKey: m["S3_SECRET_KEY"],
	}
	if o.SwiftAuthURL == "" || o.S3Endpoint == "" {
		return nil, fmt.Errorf("%s/env lacks SWIFT_AUTH_URL or S3_ENDPOINT", dir)
	}
	if err := ping(strings.TrimSuffix(o.S3Endpoint, "/") + "/healthcheck"); err != nil {
		return nil, fmt.Errorf("Swift does not answer: %w", err)
	}
	return o, nil
}
