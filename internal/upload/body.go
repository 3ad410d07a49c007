// Package upload holds what streaming image data into a request needs: a
// body that hashes what it sends and can be sent again after a login in the
// middle of a transfer, and the size of a source when it can be known.
package upload

import (
	"context"
	"io"
	"os"
	"sync"

	"github.com/go-glance/glance/internal/digest"
)

// Size returns how many bytes r will yield from where it stands: a regular
// file's remaining length, an in-memory reader's Len, or what seeking to the
// end finds; -1 when it cannot be known (a pipe).
func Size(r io.Reader) int64 {
	if f, ok := r.(*os.File); ok {
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return -1
		}
	}
	if l, ok := r.(interface{ Len() int }); ok {
		return int64(l.Len())
	}
	s, ok := r.(io.Seeker)
	if !ok {
		return -1
	}
	cur, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return -1
	}
	end, err := s.Seek(0, io.SeekEnd)
	if err != nil {
		return -1
	}
	if _, err := s.Seek(cur, io.SeekStart); err != nil {
		return -1
	}
	return end - cur
}

// Body is an upload's request body. It hashes what it sends (MD5 and
// SHA-512). When its source is an io.Seeker, Replay starts it again from
// where it began, with fresh digests.
type Body struct {
	ctx    context.Context
	hashed *digest.Reader
	start  int64
	seek   io.Seeker

	mu   sync.Mutex
	gate *gate
}

// NewBody returns the body for data read from r; ctx bounds a replay's wait.
func NewBody(ctx context.Context, r io.Reader) *Body {
	b := &Body{ctx: ctx, hashed: digest.NewReader(r)}
	if s, ok := r.(io.Seeker); ok {
		if start, err := s.Seek(0, io.SeekCurrent); err == nil {
			b.seek, b.start = s, start
		}
	}
	b.gate = newGate(b.hashed)
	return b
}

// First is the body of the first attempt.
func (b *Body) First() io.ReadCloser {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.gate
}

// Replay is an http.Request's GetBody, or nil when the source cannot be
// read again (a pipe).
func (b *Body) Replay() func() (io.ReadCloser, error) {
	if b.seek == nil {
		return nil
	}
	return b.replay
}

func (b *Body) replay() (io.ReadCloser, error) {
	b.mu.Lock()
	prev := b.gate
	b.mu.Unlock()
	// The transport may still be sending the previous attempt's body after
	// its answer came: wait until it let go, so that the two never read the
	// source at once.
	select {
	case <-prev.closed:
	case <-b.ctx.Done():
		return nil, b.ctx.Err()
	}
	if _, err := b.seek.Seek(b.start, io.SeekStart); err != nil {
		return nil, err
	}
	b.hashed.Reset()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gate = newGate(b.hashed)
	return b.gate, nil
}

// Sums waits for the hashing to end and returns the digests of what the
// last attempt sent.
func (b *Body) Sums() digest.Sums { return b.hashed.Sums() }

// Abandon stops the hashing when the upload failed.
func (b *Body) Abandon() { b.hashed.Close() }

// gate passes reads through and reports when the transport closed it.
type gate struct {
	io.Reader
	closed chan struct{}
	once   sync.Once
}

func newGate(r io.Reader) *gate { return &gate{Reader: r, closed: make(chan struct{})} }

func (g *gate) Close() error {
	g.once.Do(func() { close(g.closed) })
	return nil
}
