package digest

import (
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
)

// Checked reads a stream whose length and digest are known in advance. The
// final Read returns, instead of io.EOF, an error when the stream was shorter
// or longer than announced or its digest differs, so a consumer cannot take
// a damaged stream for a complete one.
type Checked struct {
	r        io.Reader
	size     int64 // -1: not checked
	h        hash.Hash
	want     string
	mismatch func(got string) error
	pipe     *Pipe
	n        int64
	err      error
}

// NewChecked returns a reader over r that checks its length against size
// (unless negative) and, when h is not nil, its hex digest against want;
// mismatch builds the error for a digest that differs.
func NewChecked(r io.Reader, size int64, h hash.Hash, want string, mismatch func(got string) error) *Checked {
	return &Checked{r: r, size: size, h: h, want: want, mismatch: mismatch}
}

// Read reads data, checking it at the end.
func (c *Checked) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.h != nil && c.pipe == nil {
		c.pipe = NewPipe(c.h) // started on first use: an unread stream costs nothing
	}
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += int64(n)
		if c.pipe != nil {
			c.pipe.Write(p[:n])
		}
	}
	if err == io.EOF {
		err = c.finish()
	}
	if err != nil {
		c.err = err
	}
	return n, err
}

func (c *Checked) finish() error {
	if c.size >= 0 && c.n != c.size {
		return fmt.Errorf("image data truncated or overlong: %d bytes of %d: %w", c.n, c.size, io.ErrUnexpectedEOF)
	}
	if c.pipe != nil {
		if got := hex.EncodeToString(c.pipe.Sum()); !strings.EqualFold(got, c.want) {
			return c.mismatch(got)
		}
	}
	return io.EOF
}

// Verified reports whether the whole stream was read and its digest matched.
func (c *Checked) Verified() bool { return c.h != nil && c.err == io.EOF }

// N is the number of bytes read so far.
func (c *Checked) N() int64 { return c.n }

// Close stops the hashing goroutine, if one runs.
func (c *Checked) Close() {
	if c.pipe != nil {
		c.pipe.Close()
	}
}
