package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/go-glance/glance/auth"
)

// tokenCache returns the cache to log in with, or nil when --no-token-cache
// or OS_TOKEN_CACHE turns it off. A value of OS_TOKEN_CACHE that is not a
// boolean is an error rather than a guess either way.
func (a *app) tokenCache() (*auth.TokenCache, error) {
	if a.g.noTokenCache {
		return nil, nil
	}
	switch v := strings.TrimSpace(a.getenv("OS_TOKEN_CACHE")); strings.ToLower(v) {
	case "", "1", "true", "yes", "on":
	case "0", "false", "no", "off":
		return nil, nil
	default:
		return nil, fmt.Errorf("OS_TOKEN_CACHE=%q is not a boolean: use true or false (1/0, yes/no, on/off)", v)
	}
	cache, err := auth.NewTokenCache("")
	if err != nil {
		// Without a cache directory the command still works: it logs in.
		a.warn(err)
		return nil, nil
	}
	cache.Warn = a.warn
	return cache, nil
}

// warn prints one line on stderr. Warnings never stop a command.
func (a *app) warn(err error) {
	msg := strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(err.Error())
	fmt.Fprintf(a.io.Err, "glance: warning: %s\n", msg)
}

func (a *app) cmdTokenCacheClear() *cobra.Command {
	return a.command(&cmdSpec{
		use:   "token-cache-clear",
		short: "Remove the Keystone tokens kept between commands.",
		long: "Remove the Keystone tokens kept between commands, for every user and cloud.\n\n" +
			"Tokens are kept in ~/.cache/glance/tokens ($XDG_CACHE_HOME/glance/tokens), one file\n" +
			"per auth URL, user, project and region, readable only by you. --no-token-cache or\n" +
			"OS_TOKEN_CACHE=false stop commands from using it.",
		direct: func(cmd *cobra.Command) error {
			cache, err := auth.NewTokenCache("")
			if err != nil {
				return err
			}
			dir := cache.Dir
			// Listed first, so that what was removed can be said.
			before, err := filepath.Glob(filepath.Join(dir, "*.json"))
			if err != nil {
				return err
			}
			if err := cache.Clear(); err != nil {
				return err
			}
			n := 0
			for _, f := range before {
				if _, err := os.Lstat(f); errors.Is(err, fs.ErrNotExist) {
					fmt.Fprintf(a.io.Out, "Removed %s\n", f)
					n++
				}
			}
			switch n {
			case 0:
				fmt.Fprintf(a.io.Out, "No cached tokens in %s\n", dir)
			case 1:
				fmt.Fprintf(a.io.Out, "Removed 1 cached token from %s\n", dir)
			default:
				fmt.Fprintf(a.io.Out, "Removed %d cached tokens from %s\n", n, dir)
			}
			return nil
		},
	})
}
