package cli

import (
	"bytes"
	"errors"
	"testing"
)

func TestTokenCacheSwitch(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the cache must have somewhere to be
	for _, c := range []struct {
		env     string
		flag    bool
		on, bad bool
	}{
		{env: "", on: true}, {env: "true", on: true}, {env: "1", on: true}, {env: " Yes ", on: true}, {env: "ON", on: true},
		{env: "false"}, {env: "0"}, {env: "no"}, {env: "Off"},
		{env: "true", flag: true},
		{env: "maybe", bad: true}, {env: "2", bad: true},
	} {
		a := &app{io: &IOStreams{Err: &bytes.Buffer{}}, getenv: func(k string) string {
			if k == "OS_TOKEN_CACHE" {
				return c.env
			}
			return ""
		}}
		a.g.noTokenCache = c.flag
		cache, err := a.tokenCache()
		if (err != nil) != c.bad {
			t.Errorf("OS_TOKEN_CACHE=%q: error %v", c.env, err)
		}
		if (cache != nil) != c.on {
			t.Errorf("OS_TOKEN_CACHE=%q --no-token-cache=%v: cache on = %v, want %v", c.env, c.flag, cache != nil, c.on)
		}
	}
}

func TestWarnIsOneLine(t *testing.T) {
	var buf bytes.Buffer
	a := &app{io: &IOStreams{Err: &buf}}
	a.warn(errors.New("token cache: first\nsecond\r\nthird"))
	if got, want := buf.String(), "glance: warning: token cache: first second third\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
