// Package registry maps URL schemes to the functions that open backends,
// so that glanced's metadata and blob stores are picked by the URL in its
// configuration and a new backend is one Register call.
package registry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Opener opens a backend from its URL.
type Opener[T any] func(ctx context.Context, u *url.URL) (T, error)

// Registry holds the openers of one kind of backend.
type Registry[T any] struct {
	kind string // for messages: "store", "database"
	bare string // scheme of a URL written as a bare path

	mu      sync.RWMutex
	openers map[string]Opener[T]
}

// New returns an empty registry; a bare path (no scheme) opens as a URL of
// scheme bare.
func New[T any](kind, bare string) *Registry[T] {
	return &Registry[T]{kind: kind, bare: bare, openers: map[string]Opener[T]{}}
}

// Register adds the opener of a scheme (case-insensitive). It panics if the
// scheme is taken: registering twice is a programming error.
func (r *Registry[T]) Register(scheme string, o Opener[T]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	scheme = strings.ToLower(scheme)
	if _, dup := r.openers[scheme]; dup {
		panic(fmt.Sprintf("registry: %s scheme %q registered twice", r.kind, scheme))
	}
	r.openers[scheme] = o
}

// Schemes lists the registered schemes, sorted.
func (r *Registry[T]) Schemes() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s := make([]string, 0, len(r.openers))
	for k := range r.openers {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

// Open opens the backend rawURL names, by its scheme.
func (r *Registry[T]) Open(ctx context.Context, rawURL string) (T, error) {
	var zero T
	u, err := r.Parse(rawURL)
	if err != nil {
		return zero, err
	}
	r.mu.RLock()
	o, ok := r.openers[u.Scheme]
	r.mu.RUnlock()
	if !ok {
		return zero, fmt.Errorf("%s %s: unknown scheme %q (known: %s)", r.kind, Redact(rawURL), u.Scheme,
			strings.Join(r.Schemes(), ", "))
	}
	v, err := o(ctx, u)
	if err != nil {
		return zero, fmt.Errorf("%s %s: %w", r.kind, Redact(rawURL), err)
	}
	return v, nil
}

// Parse parses a backend URL. A string without a scheme is a path, taken
// literally (no %-decoding), in a URL of the registry's bare scheme.
func (r *Registry[T]) Parse(rawURL string) (*url.URL, error) {
	if rawURL == "" {
		return nil, errors.New("empty " + r.kind + " URL")
	}
	u, err := url.Parse(rawURL)
	// One letter before ':' would be a drive letter, not a scheme.
	if err != nil || len(u.Scheme) < 2 {
		return &url.URL{Scheme: r.bare, Path: rawURL}, nil
	}
	u.Scheme = strings.ToLower(u.Scheme)
	return u, nil
}

// Redact hides a password in a backend URL, for messages and logs.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	return u.Redacted()
}

// Path returns the local path a file-like URL names: scheme:///abs/path,
// scheme:rel/path, or a bare path. A host other than localhost, options or
// an empty path are refused, with a message showing the accepted forms.
func Path(u *url.URL) (string, error) {
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("%s URL with host %q: write %s:///abs/path or %s:rel/path", u.Scheme, u.Host, u.Scheme, u.Scheme)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s URL takes no options", u.Scheme)
	}
	p := u.Path
	if u.Opaque != "" {
		p = u.Opaque
	}
	if p == "" {
		return "", fmt.Errorf("%s URL without a path", u.Scheme)
	}
	return p, nil
}
