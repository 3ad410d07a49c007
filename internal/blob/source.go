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
