// Package blob keeps image data: a Store holds bytes by key and nothing
// else (digests are computed above it, once, whatever the backend). Backends
// register an Opener for a URL scheme, and Open picks one by the scheme of a
// configured URL; package blobtest is the suite every backend passes.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/registry"
)

// Errors callers tell apart with errors.Is.
var (
	ErrNotFound     = errors.New("blob not found")
	ErrInvalidKey   = errors.New("invalid blob key")
	ErrSizeMismatch = errors.New("blob size differs from the size announced")
	ErrInvalidRange = errors.New("invalid blob range")
)

// Store keeps blobs by key.
type Store interface {
	// Put stores what r yields under key, replacing an existing blob. size
	// is the length r will yield, or -1 if unknown; data of another length
	// is an ErrSizeMismatch. When Put returns nil the blob is durable and
	// visible as a whole; on any error (r failing, ctx ending, the size
	// differing) nothing of it is visible and an older blob is untouched.
	Put(ctx context.Context, key string, r io.Reader, size int64) (written int64, err error)
	// Open reads n bytes from offset off (n < 0: to the end). A range
	// reaching past the end is cut at the end; off at or past the end gives
	// an empty stream. A missing key is ErrNotFound.
	Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error)
	// Size returns the length of the blob, or ErrNotFound.
	Size(ctx context.Context, key string) (int64, error)
	// Delete removes the blob. Deleting a missing key is not an error, so
	// that a retried or repeated cleanup succeeds.
	Delete(ctx context.Context, key string) error
	// List returns every key, sorted (for orphan cleanup).
	List(ctx context.Context) ([]string, error)
}

// maxKey bounds key length: a file name holds 255 bytes, and so do the
// object names this is meant to map onto.
const maxKey = 200

// CheckKey is the key rule every backend applies: 1 to 200 letters, digits,
// '-', '_' and '.', not starting with '.' (backends keep their own files
// under such names). Image IDs are UUIDs, well inside it.
func CheckKey(key string) error {
	ok := key != "" && len(key) <= maxKey && key[0] != '.'
	for i := 0; ok && i < len(key); i++ {
		c := key[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	if !ok {
		return fmt.Errorf("%w %q", ErrInvalidKey, key)
	}
	return nil
}

var backends = registry.New[Store]("store", "file")

// Register makes a backend available under a URL scheme (case-insensitive).
// It panics if the scheme is taken, as registering twice is a programming
// error.
func Register(scheme string, o func(ctx context.Context, u *url.URL) (Store, error)) {
	backends.Register(scheme, o)
}

// Schemes lists the registered schemes, sorted.
func Schemes() []string { return backends.Schemes() }

// Open opens the store rawURL names: scheme:... picks the backend registered
// for the scheme, and a bare path (no scheme) is a file store. The opener
// may create what the store needs (a directory, a container).
func Open(ctx context.Context, rawURL string) (Store, error) { return backends.Open(ctx, rawURL) }

// Location returns where the store rawURL names keeps its data, in one
// spelling (a file store's absolute directory; otherwise the URL without
// credentials), so that configurations can refuse two stores in one place:
// each would take the other's blobs for orphans.
func Location(rawURL string) (string, error) {
	u, err := backends.Parse(rawURL)
	if err != nil {
		return "", err
	}
	if u.Scheme != "file" {
		u.User = nil
		return u.String(), nil
	}
	p, err := registry.Path(u)
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return "file://" + abs, nil
}

// ParseSize reads a byte count: digits with an optional KiB, MiB or GiB.
func ParseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSuffix(s, suffix), m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is no size (digits, with KiB, MiB or GiB)", s)
	}
	return n * mult, nil
}

// URLOption sets *dst to the query value name of q read by parse, when q
// has one; its error names the store kind and the option ("s3 store:
// part_size: ..."). The object stores read their URL options with it.
func URLOption[T any](kind string, q url.Values, name string, parse func(string) (T, error), dst *T) error {
	v := q.Get(name)
	if v == "" {
		return nil
	}
	t, err := parse(v)
	if err != nil {
		return fmt.Errorf("%s store: %s: %w", kind, name, err)
	}
	*dst = t
	return nil
}

// Sweeper is a Store that keeps pieces of its own beside blobs, which an
// upload cut by a crash leaves behind (Swift's segments, S3's incomplete
// multipart uploads; a failed or cancelled Put removes its own). Sweep
// removes those begun before the given time that no blob uses, and says
// how many it removed. The orphan janitor calls it, with a grace period
// longer than any upload in progress.
type Sweeper interface {
	Sweep(ctx context.Context, before time.Time) (int, error)
}

// HTTPTransport is the transport of the object stores' clients: the
// default one, with every wait for the service bounded (connecting, and an
// answer's headers once a request is sent; 5 minutes, as a large object's
// manifest can take the service a while) but not a transfer's length.
func HTTPTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 5 * time.Minute
	t.ExpectContinueTimeout = 5 * time.Second
	t.MaxIdleConnsPerHost = 16
	return t
}

// RetryNotFound runs open, and once more after a moment when it fails with
// ErrNotFound: Swift's object server (also behind its s3api) may answer 404
// to a GET that races a PUT replacing the object, as it unlinks the older
// file when the newer lands; Swift's proxy would try another replica, and a
// store of one replica has none.
func RetryNotFound[T any](ctx context.Context, open func() (T, error)) (T, error) {
	v, err := open()
	if !errors.Is(err, ErrNotFound) {
		return v, err
	}
	select {
	case <-ctx.Done():
		return v, err
	case <-time.After(100 * time.Millisecond):
	}
	return open()
}
