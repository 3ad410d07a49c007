package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultCacheMargin is how long a cached token must stay valid to be reused.
const DefaultCacheMargin = 5 * time.Minute

// TokenCache keeps Keystone tokens between runs, so that a series of
// commands logs in once.
//
// Only tokens obtained by password, application credential or v2.0 login
// are stored; a token given in the options is never stored. Each entry
// holds the token, its expiry, its catalog and the user and project IDs,
// in its own file named after a SHA-256 fingerprint of the auth URL, user,
// project, domains, application credential ID or name, auth type, identity
// version, region and interface. Passwords and secrets are not part of the
// fingerprint nor of the file, so a cached token is reused without the
// password being checked again: the entry is only readable by its owner,
// who could read the password from the same places anyway.
//
// Files are written atomically (temporary file and rename) with mode 0600
// in a directory of mode 0700. A directory or file that is open to other
// users, belongs to someone else, or is a symbolic link is not used: the
// problem goes to Warn and the session logs in as if there were no cache.
// A token the service refuses (401) is removed, and the session logs in
// afresh and retries once.
type TokenCache struct {
	// Dir holds the entries.
	Dir string
	// Margin: a token is reused only while it stays valid at least this
	// long. Zero means DefaultCacheMargin.
	Margin time.Duration
	// Warn, if set, receives the problems the cache met (unsafe
	// permissions, unreadable or unwritable files). The cache never makes
	// a login fail.
	Warn func(error)

	now func() time.Time // for tests

	// unusable is set once the directory was refused, so that the refusal
	// is reported once and not again by the write after the login.
	unusable atomic.Bool
}

// DefaultTokenCacheDir returns os.UserCacheDir()/glance/tokens.
func DefaultTokenCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the token cache directory: %w", err)
	}
	return filepath.Join(d, "glance", "tokens"), nil
}

// NewTokenCache returns a cache in dir, or in DefaultTokenCacheDir when dir
// is empty. The directory is created on the first write.
func NewTokenCache(dir string) (*TokenCache, error) {
	if dir == "" {
		d, err := DefaultTokenCacheDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	return &TokenCache{Dir: dir}, nil
}

// Clear removes every entry.
func (c *TokenCache) Clear() error {
	ents, err := os.ReadDir(c.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("clearing the token cache: %w", err)
	}
	for _, e := range ents {
		// Entries, and temporary files a crash may have left behind.
		if strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".tmp-") {
			if err := os.Remove(filepath.Join(c.Dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("clearing the token cache: %w", err)
			}
		}
	}
	return nil
}

const cacheFormat = 1

// cacheEntry is the content of one cache file.
type cacheEntry struct {
	Format          int    `json:"format"`
	IdentityVersion int    `json:"identity_version"`
	IdentityURL     string `json:"identity_url"`
	Token           token  `json:"token"`
}

// fingerprint names the cache entry of a plan. Secrets stay out of it.
func fingerprint(p *plan) string {
	o := p.o
	parts := []string{
		"v1", trimSlash(o.AuthURL), o.IdentityAPIVersion, o.AuthType,
		o.Username, o.UserID, o.UserDomainName, o.UserDomainID,
		o.ProjectName, o.ProjectID, o.ProjectDomainName, o.ProjectDomainID,
		o.DomainName, o.DomainID, o.DefaultDomainName, o.DefaultDomainID,
		o.ApplicationCredentialID, o.ApplicationCredentialName,
		o.RegionName, o.Interface,
	}
	// JSON keeps the fields apart: no two lists encode alike.
	b, _ := json.Marshal(parts)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (c *TokenCache) warn(err error) {
	if c.Warn != nil {
		c.Warn(fmt.Errorf("token cache: %w", err))
	}
}

func (c *TokenCache) path(key string) string { return filepath.Join(c.Dir, key+".json") }

func (c *TokenCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// load returns the entry for key if it is safe to use and valid long
// enough, else nil.
func (c *TokenCache) load(key string) *cacheEntry {
	fi, err := os.Stat(c.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = checkPrivate(c.Dir, fi, true)
	}
	if err != nil {
		c.unusable.Store(true) // said once; store stays quiet about it
		c.warn(err)
		return nil
	}
	path := c.path(key)
	f, err := os.OpenFile(path, os.O_RDONLY|openNoFollow, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		c.warn(err)
		return nil
	}
	defer f.Close()
	if fi, err = f.Stat(); err == nil {
		err = checkPrivate(path, fi, false)
	}
	if err != nil {
		c.warn(err)
		return nil
	}
	var e cacheEntry
	b, err := io.ReadAll(io.LimitReader(f, 8<<20))
	if err == nil {
		err = json.Unmarshal(b, &e)
	}
	if err != nil {
		c.warn(fmt.Errorf("%s: %w", path, err))
		return nil
	}
	margin := c.Margin
	if margin == 0 {
		margin = DefaultCacheMargin
	}
	if e.Format != cacheFormat || e.Token.ID == "" || e.IdentityURL == "" ||
		e.Token.ExpiresAt.Sub(c.clock()) < margin {
		c.remove(key)
		return nil
	}
	return &e
}

// store writes the entry for key atomically. Tokens without an expiry are
// not stored: their lifetime is unknown.
func (c *TokenCache) store(key string, e *cacheEntry) {
	if e.Token.ExpiresAt.IsZero() || c.unusable.Load() {
		return
	}
	e.Format = cacheFormat
	if err := c.write(key, e); err != nil {
		c.warn(err)
	}
}

func (c *TokenCache) write(key string, e *cacheEntry) error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Stat(c.Dir)
	if err != nil {
		return err
	}
	if err := checkPrivate(c.Dir, fi, true); err != nil {
		return err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(c.Dir, ".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), c.path(key))
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// remove deletes the entry for key, if any.
func (c *TokenCache) remove(key string) {
	if err := os.Remove(c.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.warn(err)
	}
}
