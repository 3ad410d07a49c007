package blob

import (
	"context"
	"fmt"
	"io"
)

// Source is what a backend's Put reads from: the caller's reader, stopped
// when ctx ends and held to the announced size, so that every backend
// applies the same rules. A body cut short keeps its own error
// (io.ErrUnexpectedEOF), which is never taken for a normal end.
type Source struct {
	ctx  context.Context
	r    io.Reader
	size int64 // -1: unknown
	n    int64
	err  error // the first error of r other than io.EOF
}

// NewSource wraps r for a Put of size bytes (-1 if unknown).
func NewSource(ctx context.Context, r io.Reader, size int64) *Source {
	if size < 0 {
		size = -1
	}
	return &Source{ctx: ctx, r: r, size: size}
}

func (s *Source) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	if left := s.size - s.n; s.size >= 0 && left < int64(len(p)) {
		// Ask for at most one byte beyond the size: enough to see excess.
		p = p[:left+1]
	}
	k, err := s.r.Read(p)
	s.n += int64(k)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	if s.size >= 0 && s.n > s.size {
		return 0, fmt.Errorf("%w: more than %d bytes", ErrSizeMismatch, s.size)
	}
	if err == io.EOF && s.size >= 0 && s.n != s.size {
		return k, fmt.Errorf("%w: %d bytes, announced %d", ErrSizeMismatch, s.n, s.size)
	}
	return k, err
}

// N is the number of bytes read so far.
func (s *Source) N() int64 { return s.n }

// Err is the first error the caller's reader gave (not io.EOF), so that a
// backend whose transport hides it can still report the body's own failure.
func (s *Source) Err() error { return s.err }

// Section reads the next n bytes of s; fewer is io.ErrUnexpectedEOF (unless
// s gave an error of its own). With last set, the final bytes are handed
// over only once s is known to end there, and more is an ErrSizeMismatch:
// a service that commits an object once it has its announced length must
// never get the whole of a body that turns out too long.
func (s *Source) Section(n int64, last bool) io.Reader { return &section{s: s, n: n, last: last} }

type section struct {
	s    *Source
	n    int64
	last bool
}

func (e *section) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), e.n)]
	k, err := e.s.Read(p)
	e.n -= int64(k)
	switch {
	case err == io.EOF && e.n > 0:
		return k, io.ErrUnexpectedEOF
	case err == io.EOF:
		return k, nil
	case err == nil && e.n == 0 && e.last:
		var probe [1]byte
		if _, err := e.s.Read(probe[:]); err != io.EOF {
			if err == nil {
				err = ErrSizeMismatch
			}
			return 0, err
		}
	}
	return k, err
}
