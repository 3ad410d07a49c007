// Package glance is a client for the OpenStack Image service (Glance) API v2.
//
// A Client talks to one image endpoint through an *http.Client. Authentication is
// not its concern: package auth turns Keystone credentials, clouds.yaml or a token
// into an endpoint and an *http.Client that carries the token, and any other
// http.Client (say, one for a noauth Glance) works as well.
//
// Every call takes a context.Context; cancelling it stops the call, including a
// transfer in progress. Image data is streamed: uploads read from an io.Reader and
// downloads return an io.ReadCloser, so memory use does not grow with image size.
// Both verify what they move: an upload hashes the data it sends (MD5 and SHA-512)
// and compares the digests with what the server recorded; a download checks the
// bytes against os_hash_algo/os_hash_value, falling back to the MD5 checksum.
//
// Errors returned for HTTP failures are *Error values; errors.Is reports whether
// one is ErrNotFound, ErrConflict, ErrForbidden or ErrUnauthorized.
//
// The legacy Image API v1 is package github.com/go-glance/glance/v1.
package glance
