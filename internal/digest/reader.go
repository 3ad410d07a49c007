package digest

import (
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"io"
)

// Sums are the digests of a whole stream.
type Sums struct {
	Size   int64
	MD5    string // hex
	SHA512 string // hex
}

// Reader hashes what is read through it, MD5 and SHA-512 each in a
// goroutine of its own, so that reading, MD5 and SHA-512 take the time of
// the slowest of them rather than of their sum.
type Reader struct {
	r           io.Reader
	n           int64
	noMD5       bool
	md5, sha512 *Pipe // md5 is nil with noMD5
}

// NewReader returns a Reader over r. Call Sums or Close when done, or the
// hashing goroutines stay.
func NewReader(r io.Reader) *Reader {
	h := &Reader{r: r}
	h.Reset()
	return h
}

// NewSHA512Reader is NewReader without MD5, which costs as much CPU as
// SHA-512 and adds nothing to a check against a SHA-512 digest.
func NewSHA512Reader(r io.Reader) *Reader {
	h := &Reader{r: r, noMD5: true}
	h.Reset()
	return h
}

// Reset starts the digests afresh (for a replayed upload).
func (h *Reader) Reset() {
	h.Close()
	h.n, h.md5, h.sha512 = 0, nil, NewPipe(sha512.New())
	if !h.noMD5 {
		h.md5 = NewPipe(md5.New())
	}
}

func (h *Reader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		h.n += int64(n)
		h.sha512.Write(p[:n])
		if h.md5 != nil {
			h.md5.Write(p[:n])
		}
	}
	return n, err
}

// N is the number of bytes read so far.
func (h *Reader) N() int64 { return h.n }

// Sums waits for the hashing to finish and returns the digests of what was
// read (MD5 "" without it); the Reader is closed afterwards.
func (h *Reader) Sums() Sums {
	s := Sums{Size: h.n, SHA512: hex.EncodeToString(h.sha512.Sum())}
	if h.md5 != nil {
		s.MD5 = hex.EncodeToString(h.md5.Sum())
	}
	return s
}

// Close stops the hashing goroutines without waiting for a result.
func (h *Reader) Close() {
	if h.sha512 != nil {
		h.sha512.Close()
	}
	if h.md5 != nil {
		h.md5.Close()
	}
}
